# shellcheck shell=bash
# netns_cluster.sh - simulated nodes on one machine (sourced by tests/shell/test_multinode.sh and
# bench/plan_accuracy.sh; needs root, ip, tc, unshare).  Each node is a network namespace with its
# own hostname (unshare --uts), its eth0 joined by a veth pair to a bridge inside a private
# "switch" namespace; the addresses 10.217.0.0/24 exist only inside these namespaces, which have
# no route out, so nothing leaves them.  mpirun runs inside node 0 and starts the other nodes'
# orted through an rsh agent that does `ip netns exec` (no sshd): ranks on different nodes talk
# over Open MPI's TCP transport through the veths, ranks on one node over shared memory.
# The kernel here has no netem: latency comes from t5g's T5G_SIM_LATENCY_US (src/parallel/comm.c).
#
#   netns_up NODES WORKDIR   create the namespaces (prefix NETNS_P) and WORKDIR/agent.sh
#   netns_rate RATE          tc tbf on every node's link, e.g. 1gbit, 10gbit
#   netns_run RPN CMD...     mpirun from node 0 over all nodes, RPN ranks per node, node by node;
#                            BLIS_NUM_THREADS and T5G_SIM_LATENCY_US (default 0) reach every rank
#   netns_tx_bytes I         bytes node I has sent on its link
#   netns_down               kill what runs in the namespaces, delete them (call from a trap)

NETNS_P=${NETNS_P:-t5gmn$$}
NETNS_NODES=0
NETNS_AGENT=

netns_up() {
    local i n
    NETNS_NODES=$1
    NETNS_AGENT=$2/agent.sh
    ip netns add "${NETNS_P}sw"
    ip netns exec "${NETNS_P}sw" ip link set lo up
    ip netns exec "${NETNS_P}sw" ip link add br0 type bridge
    ip netns exec "${NETNS_P}sw" ip link set br0 up
    for i in $(seq 0 $((NETNS_NODES - 1))); do
        n=${NETNS_P}n$i
        ip netns add "$n"
        ip netns exec "$n" ip link set lo up
        ip link add "${NETNS_P}a$i" type veth peer name "${NETNS_P}b$i"
        ip link set "${NETNS_P}a$i" netns "$n"
        ip link set "${NETNS_P}b$i" netns "${NETNS_P}sw"
        ip netns exec "$n" ip link set "${NETNS_P}a$i" name eth0
        ip netns exec "$n" ip addr add "10.217.0.$((i + 1))/24" dev eth0
        ip netns exec "$n" ip link set eth0 up
        ip netns exec "${NETNS_P}sw" ip link set "${NETNS_P}b$i" master br0
        ip netns exec "${NETNS_P}sw" ip link set "${NETNS_P}b$i" up
    done
    # the rsh agent Open MPI calls as `AGENT HOST orted ...`: HOST's namespace and hostname
    {
        echo '#!/bin/bash'
        echo 'host=$1; shift'
        echo 'case $host in'
        for i in $(seq 0 $((NETNS_NODES - 1))); do echo "10.217.0.$((i + 1))) ns=${NETNS_P}n$i ;;"; done
        echo '*) echo "agent: unknown host $host" >&2; exit 1 ;;'
        echo 'esac'
        echo 'exec ip netns exec "$ns" unshare --uts /bin/sh -c "hostname $ns; $*"'
    } > "$NETNS_AGENT"
    chmod +x "$NETNS_AGENT"
}

netns_rate() {
    local i
    for i in $(seq 0 $((NETNS_NODES - 1))); do
        ip netns exec "${NETNS_P}n$i" tc qdisc replace dev eth0 root tbf rate "$1" burst 1mb latency 50ms || return 1
    done
}

netns_tx_bytes() { ip netns exec "${NETNS_P}n$1" cat /sys/class/net/eth0/statistics/tx_bytes; }

netns_run() {
    local rpn=$1 hosts="" i
    shift
    for i in $(seq 0 $((NETNS_NODES - 1))); do hosts+="${hosts:+,}10.217.0.$((i + 1)):$rpn"; done
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        ip netns exec "${NETNS_P}n0" unshare --uts /bin/sh -c 'hostname "$0"; exec "$@"' "${NETNS_P}n0" \
        timeout 300 mpirun --host "$hosts" -np $((rpn * NETNS_NODES)) --oversubscribe --bind-to none \
        --mca plm_rsh_agent "$NETNS_AGENT" --mca btl self,vader,tcp --mca mpi_yield_when_idle 1 \
        --mca btl_tcp_if_include eth0 --mca oob_tcp_if_include eth0 \
        -x BLIS_NUM_THREADS="${BLIS_NUM_THREADS:-1}" -x T5G_SIM_LATENCY_US="${T5G_SIM_LATENCY_US:-0}" "$@"
}

netns_down() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk -v p="$NETNS_P" 'index($1, p) == 1 { print $1 }'); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done  # ranks we started
        ip netns del "$ns" 2>/dev/null || true
    done
}
