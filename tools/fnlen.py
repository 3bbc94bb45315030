# tools/fnlen.py [N] [DIRS...]: functions over 80 lines in the C sources (braces in string/char literals and comments do not count); default DIRS: src eval tests bench
import re, sys, subprocess
roots = sys.argv[2:] or ["src", "eval", "tests", "bench"]
files = subprocess.check_output(["git", "ls-files", *roots]).decode().split()
def strip(src):
    out = []; i = 0; n = len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i); j = n if j < 0 else j; out.append(' ' * (j - i)); i = j
        elif src.startswith('/*', i):
            j = src.find('*/', i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif c in '"\'':
            j = i + 1
            while j < n and src[j] != c and src[j] != '\n':
                j += 2 if src[j] == '\\' else 1
            out.append(c + ' ' * (j - i - 1) + c); i = j + 1
        else:
            out.append(c); i += 1
    return ''.join(out)
res = []
for f in files:
    if not f.endswith(('.c', '.cc', '.cu')): continue
    lines = strip(open(f, errors='replace').read()).split('\n')
    i = 0
    while i < len(lines):
        l = lines[i]
        if re.match(r'^[A-Za-z_][A-Za-z0-9_ \*]*\(', l) and not l.rstrip().endswith(';') and not l.startswith(('typedef', '#', 'static const', 'const ')) or (re.match(r'^(static |T5G_\w+ )*[A-Za-z_][\w \*]*\s\**\w+\(', l) and not l.rstrip().endswith(';')):
            j = i
            while j < len(lines) and '{' not in lines[j] and not lines[j].rstrip().endswith(';'): j += 1
            if j >= len(lines) or lines[j].rstrip().endswith(';') and '{' not in lines[j]: i += 1; continue
            depth = 0; k = j
            while k < len(lines):
                depth += lines[k].count('{') - lines[k].count('}')
                if depth == 0: break
                k += 1
            n = k - i + 1
            name = re.search(r'(\w+)\(', l)
            res.append((n, f, i + 1, name.group(1) if name else l[:40]))
            i = k + 1; continue
        i += 1
res.sort(reverse=True)
over = [r for r in res if r[0] > 80]
print(len(over), "functions over 80 lines")
for r in over[:int(sys.argv[1]) if len(sys.argv) > 1 else 50]: print(*r)
