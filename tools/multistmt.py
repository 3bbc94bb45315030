# tools/multistmt.py: # Lines of src/ and eval/ C code holding two or more statements: ';' counted outside strings,
# character literals, comments (block comments across lines too) and for(...) headers.
import re, subprocess, sys
files = [f for f in subprocess.check_output(["git", "ls-files", "src", "eval"]).decode().split()
         if f.endswith(('.c', '.h', '.cc', '.cu', '.cuh'))]
total = hits = 0
for f in files:
    in_comment = False
    for n, line in enumerate(open(f, errors='replace'), 1):
        code, i = [], 0
        while i < len(line):
            if in_comment:
                j = line.find('*/', i)
                if j < 0: i = len(line); continue
                in_comment, i = False, j + 2; continue
            c = line[i]
            if line.startswith('/*', i): in_comment, i = True, i + 2; continue
            if line.startswith('//', i): break
            if c in '"\'':
                j = i + 1
                while j < len(line) and line[j] != c: j += 2 if line[j] == '\\' else 1
                code.append(c + c); i = j + 1; continue
            code.append(c); i += 1
        t = ''.join(code).strip()
        if not t: continue
        total += 1
        while True:   # drop every for(...) header, nested parens included
            m = re.search(r'\bfor\s*\(', t)
            if not m: break
            d, k = 0, m.end() - 1
            while k < len(t):
                d += (t[k] == '(') - (t[k] == ')')
                if d == 0: break
                k += 1
            t = t[:m.start()] + t[k + 1:]
        if t.count(';') >= 2:
            hits += 1
            if '-v' in sys.argv: print(f"{f}:{n}: {line.strip()}")
print(f"{hits} of {total} lines of code hold two or more statements ({100.0 * hits / total:.3f} %)")
