#!/usr/bin/env bash
# slurm_local.sh - a private one-node SLURM cluster (munged + slurmctld + slurmd) for tests and
# workstations: no systemd, nothing under /etc, every file (config, munge key, sockets, PID files,
# state, spool, logs) below one folder DIR.  Run as root (slurmd starts jobs as their user).
#
#   tools/slurm_local.sh start  DIR         start what is not running, wait until slurmd has
#                                            registered and the node takes jobs (idempotent)
#   tools/slurm_local.sh stop   DIR         cancel the cluster's jobs, stop the daemons (idempotent)
#   tools/slurm_local.sh status DIR         daemons, sinfo, squeue; exit 0 iff all three run
#   tools/slurm_local.sh env    DIR         print the line every client needs:
#                                            export SLURM_CONF=DIR/etc/slurm.conf
#   tools/slurm_local.sh wait   DIR JOBID [SECONDS]
#                                            wait until the job ends (default 300 s), print its
#                                            final state; exit 0 iff COMPLETED
#
# Environment:
#   SLURM_LOCAL_CTLD_PORT, SLURM_LOCAL_SLURMD_PORT   ports (6817, 6818); a busy port is refused
#   SLURM_LOCAL_MEM_MB   node memory in MiB (default 90% of MemTotal).  A value above the real
#                        memory makes slurmd report the configured size (config_overrides), so a
#                        big node's --mem can be submitted; memory is never enforced here.
#   SLURM_LOCAL_WAIT_S   how long start waits for the node (30)
# Packages (Debian 12): slurm-wlm munge (tools/install_deps.sh).  Recipe and pitfalls: jobs/README.md.
set -euo pipefail
umask 022

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit "${1:-0}"; }
log() { echo "[slurm_local $(date +%T)] $*"; }
die() { echo "[slurm_local] error: $*" >&2; exit 1; }

[ $# -ge 1 ] || usage 2
cmd=$1; shift
case $cmd in -h|--help|help) usage 0 ;; esac
[ $# -ge 1 ] || die "'$cmd' needs the cluster folder DIR (see --help)"
DIR=$(realpath -m "$1"); shift

CONF=$DIR/etc/slurm.conf
RUN=$DIR/run
SOCK=$RUN/munge.socket.2
CTLD_PORT=${SLURM_LOCAL_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_LOCAL_SLURMD_PORT:-6818}
WAIT_S=${SLURM_LOCAL_WAIT_S:-30}
NODE=$(hostname -s)
export SLURM_CONF=$CONF

# pid_of NAME: print the PID recorded in RUN/NAME.pid if that process is alive and is NAME
pid_of() {
    local f=$RUN/$1.pid p
    [ -s "$f" ] || return 1
    p=$(<"$f")
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] || return 1
    echo "$p"
}

# wait_pid NAME: daemons write their PID file after forking; wait up to 5 s for it
wait_pid() {
    for _ in $(seq 20); do pid_of "$1" && return 0; sleep 0.25; done
    die "$1 did not start; see $DIR/log/$1.log"
}

# port_busy PORT: something listens on TCP PORT (read from /proc: ss may not be installed)
port_busy() {
    local f tables=()
    for f in /proc/net/tcp /proc/net/tcp6; do [ ! -r "$f" ] || tables+=("$f"); done   # no tcp6 without IPv6
    awk -v p=":$(printf '%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' "${tables[@]}"
}

need_tools() {
    local t missing=
    for t in munged mungekey munge unmunge slurmctld slurmd sinfo scontrol squeue scancel; do
        command -v "$t" >/dev/null || missing+=" $t"
    done
    [ -z "$missing" ] || die "missing:$missing; run: bash tools/install_deps.sh"
    [ "$(id -u)" -eq 0 ] || die "run as root: slurmd must start jobs as any user"
    [ ${#SOCK} -lt 100 ] || die "DIR is too long for a unix socket path ($SOCK); use a shorter DIR"
}

# write_conf: (re)write slurm.conf; returns 0 if it changed
write_conf() {
    local real mem topo extra=
    real=$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)
    mem=${SLURM_LOCAL_MEM_MB:-$((real * 9 / 10))}
    [[ $mem =~ ^[0-9]+$ ]] || die "SLURM_LOCAL_MEM_MB must be a number of MiB, not '$mem'"
    [ "$mem" -le "$real" ] || extra="SlurmdParameters=config_overrides"
    # slurmd -C gives this machine's topology; a mismatch would drain the node
    topo=$(slurmd -C | sed -n '1{s/^NodeName=[^ ]* //;s/ *RealMemory=[0-9]*//;p}')
    [ -n "$topo" ] || die "slurmd -C printed no node topology"
    mkdir -p "$DIR/etc"
    cat > "$CONF.new" <<EOF
# written by tools/slurm_local.sh: a one-node cluster, all files under $DIR
ClusterName=t5glocal
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
TmpFS=$DIR/tmp
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=pmix
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
ReturnToService=2
SchedulerType=sched/backfill
SlurmdTimeout=60
MinJobAge=600
$extra
NodeName=$NODE NodeAddr=127.0.0.1 $topo RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    if [ -f "$CONF" ] && cmp -s "$CONF" "$CONF.new"; then rm -f "$CONF.new"; return 1; fi
    mv "$CONF.new" "$CONF"
    log "wrote $CONF"
}

start_munge() {
    local p d perm force=
    if p=$(pid_of munged); then log "munged already running (pid $p)"; return; fi
    # the key folder is private; the socket folder must be world-searchable
    mkdir -p "$DIR/munge" "$RUN"
    chmod 700 "$DIR/munge"; chmod 755 "$RUN"
    [ -s "$DIR/munge/munge.key" ] || mungekey --create --keyfile="$DIR/munge/munge.key"
    chmod 600 "$DIR/munge/munge.key"
    rm -f "$SOCK" "$SOCK.lock"
    # munged refuses a socket below any folder without execute for group and others
    # (e.g. a `mktemp -d` folder, 0700).  Then start it with --force: only root can reach it,
    # which is enough here (jobs are submitted as root).  chmod go+x that folder avoids this.
    d=$RUN
    while [ "$d" != / ]; do
        d=$(dirname "$d"); perm=$(stat -c %A "$d")
        case ${perm:6:1}${perm:9:1} in
            [xs][xt]) ;;
            *) force=--force
               log "warning: $d is not searchable by group and others (chmod 755 it); munged runs with --force, root-only" ;;
        esac
    done
    munged $force --key-file="$DIR/munge/munge.key" --socket="$SOCK" --pid-file="$RUN/munged.pid" \
        --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" ||
        die "munged failed to start; see $DIR/log/munged.log"
    munge -n -S "$SOCK" | unmunge -S "$SOCK" >/dev/null || die "munge self-test failed; see $DIR/log/munged.log"
    p=$(wait_pid munged); log "munged started (pid $p)"
}

# node_ready SINCE: the node takes jobs and its slurmd registered at or after SINCE.  slurmctld
# restores a node as idle from its state files, so idle alone does not prove slurmd is up.
node_ready() {
    local st reg
    st=$(sinfo -h -n "$NODE" -o %t 2>/dev/null) || return 1
    reg=$(scontrol show node "$NODE" 2>/dev/null | sed -n 's/.*SlurmdStartTime=\([^ ]*\).*/\1/p')
    case $st in idle|mix|alloc|comp) ;; *) return 1 ;; esac
    [[ ! $reg < $1 ]]
}

start() {
    local p changed=0 since=0000 t
    need_tools
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/tmp" "$DIR/log" "$RUN"
    write_conf && changed=1
    # refuse busy ports before starting anything, so that a refused start leaves nothing running
    if ! pid_of slurmctld >/dev/null && port_busy "$CTLD_PORT"; then
        die "port $CTLD_PORT is busy (another slurmctld?); set SLURM_LOCAL_CTLD_PORT"
    fi
    if ! pid_of slurmd >/dev/null && port_busy "$SLURMD_PORT"; then
        die "port $SLURMD_PORT is busy (another slurmd?); set SLURM_LOCAL_SLURMD_PORT"
    fi
    start_munge
    if p=$(pid_of slurmctld); then
        log "slurmctld already running (pid $p)"
        [ $changed = 0 ] || { scontrol reconfigure; log "slurmctld reconfigured"; }
    else
        slurmctld -f "$CONF" || die "slurmctld failed to start; see $DIR/log/slurmctld.log"
        p=$(wait_pid slurmctld); log "slurmctld started (pid $p)"
    fi
    if p=$(pid_of slurmd); then
        log "slurmd already running (pid $p)"
    else
        since=$(date +%Y-%m-%dT%H:%M:%S)
        slurmd -f "$CONF" || die "slurmd failed to start; see $DIR/log/slurmd.log"
        p=$(wait_pid slurmd); log "slurmd started (pid $p)"
    fi
    for ((t = 0; t < WAIT_S * 4; t++)); do
        node_ready "$since" && break
        sleep 0.25
    done
    node_ready "$since" || die "node $NODE did not become ready in $WAIT_S s ($(sinfo -h -n "$NODE" -o '%t %E' 2>&1)); see $DIR/log/slurmd.log and slurmctld.log"
    log "node $NODE ready after $((t / 4)) s"
    echo "export SLURM_CONF=$CONF"
}

# stop_one NAME [SIGNAL PID]: signal the daemon (TERM; 0 when it is already shutting down, with
# the PID it had), wait for it to exit, KILL it after 15 s
stop_one() {
    local name=$1 sig=${2:-TERM} p=${3:-}
    [ -n "$p" ] || p=$(pid_of "$name") || { rm -f "$RUN/$name.pid"; log "$name not running"; return; }
    kill -s "$sig" "$p" 2>/dev/null || true
    for _ in $(seq 60); do [ -d "/proc/$p" ] || break; sleep 0.25; done
    if [ -d "/proc/$p" ]; then log "$name (pid $p) still running after 15 s; sending KILL"; kill -9 "$p" || true; fi
    rm -f "$RUN/$name.pid"
    log "$name stopped (pid $p)"
}

stop() {
    local jobs ctld='' dmon='' n
    if ctld=$(pid_of slurmctld); then
        mapfile -t jobs < <(squeue -h -o %i 2>/dev/null || true)
        if [ ${#jobs[@]} -gt 0 ]; then
            log "cancelling jobs: ${jobs[*]}"
            scancel "${jobs[@]}" || true
            # let slurmd end the job steps before it goes away itself
            for _ in $(seq 40); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.25; done
        fi
        # 'scontrol shutdown' stops slurmctld and its slurmd in ~2 s; TERM takes ~5 s
        dmon=$(pid_of slurmd || true)
        if scontrol shutdown >/dev/null 2>&1; then
            [ -z "$dmon" ] || stop_one slurmd 0 "$dmon"
            stop_one slurmctld 0 "$ctld"
        fi
    fi
    for n in slurmd slurmctld; do
        if [ -z "$ctld" ] || pid_of $n >/dev/null; then stop_one $n; fi
    done
    stop_one munged
}

status() {
    local n p rc=0
    for n in munged slurmctld slurmd; do
        if p=$(pid_of $n); then echo "$n: running (pid $p)"; else echo "$n: stopped"; rc=1; fi
    done
    if pid_of slurmctld >/dev/null; then sinfo; squeue; fi
    echo "export SLURM_CONF=$CONF"
    return $rc
}

# job_state JOBID: JobState from scontrol (slurmctld keeps ended jobs for MinJobAge)
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }

wait_job() {
    local id=${1:?wait needs a JOBID} limit=${2:-300} st='' t
    for ((t = 0; t < limit * 2; t++)); do
        st=$(job_state "$id")
        case $st in
            COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE) break ;;
        esac
        sleep 0.5
    done
    echo "${st:-UNKNOWN}"
    [ "$st" = COMPLETED ]
}

case $cmd in
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    wait) wait_job "$@" ;;
    *) echo "[slurm_local] unknown command '$cmd'" >&2; usage 2 ;;
esac
