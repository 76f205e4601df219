# Checks that every table in a GitHub-flavoured Markdown file is one GFM renders as a table: a
# header row, a delimiter row with the same number of cells, and body rows with that many cells
# (cells split on unescaped pipes, as GFM splits them even inside code spans). Also checks the
# file's size against GitHub's 1 MiB step-summary limit. Prints "tables N rows M"; exits 1 on
# the first problem.
import re
import sys

data = open(sys.argv[1], 'rb').read()
if len(data) > 1024 * 1024:
    sys.exit(f'{len(data)} bytes: over the 1 MiB GitHub accepts')
lines = data.decode('utf-8').split('\n')

def cells(line):
    body = line.strip()
    body = body[1:] if body.startswith('|') else body
    body = body[:-1] if body.endswith('|') and not body.endswith('\\|') else body
    return re.split(r'(?<!\\)\|', body)

tables = rows = 0
in_fence = False
i = 0
while i < len(lines):
    line = lines[i]
    if line.startswith('```'):
        in_fence = not in_fence
    if in_fence or not line.startswith('|'):
        i += 1
        continue
    header = cells(line)
    if i + 1 >= len(lines) or not re.fullmatch(r'\|(\s*:?-+:?\s*\|)+', lines[i + 1].strip()):
        sys.exit(f'line {i + 1}: a table row without a delimiter row under it: {line}')
    if len(cells(lines[i + 1])) != len(header):
        sys.exit(f'line {i + 2}: the delimiter row has {len(cells(lines[i + 1]))} cells, the header {len(header)}')
    tables += 1
    i += 2
    while i < len(lines) and lines[i].startswith('|'):
        if len(cells(lines[i])) != len(header):
            sys.exit(f'line {i + 1}: {len(cells(lines[i]))} cells, the header has {len(header)}: {lines[i]}')
        rows += 1
        i += 1
print('tables', tables, 'rows', rows)
