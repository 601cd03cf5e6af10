#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Give groff places to break the Japanese man pages' lines.

groff (1.22, Debian 12) breaks lines only at spaces, so a run of Japanese
longer than the line is "can't break line" (lintian's groff-message) and
an overfull line. After editing man/ja/*, run

    python3 man/ja/breaks.py man/ja/sanso.8 man/ja/sanso-zones.5

which, in place and idempotently:
  - moves a trailing 。 or 、 of a macro line out of the macro (an
    enclosure becomes its block form closed with Ns; others get Ns);
  - joins text lines split between two Japanese characters, with \\:
    (a break point that prints nothing) instead of the space a line end
    would print, and puts \\: after every 、 and 。;
  - in a long run of Japanese still without a break point, puts \\:
    after a particle, never before a character that may not start a line.
make check-man then checks that groff warns about nothing.
"""
import re
import sys
BLOCK = {'Pq': ('Po', 'Pc', None), 'Dq': ('Do', 'Dc', None),
         'Qq': ('Qo', 'Qc', None), 'Sq': ('So', 'Sc', None),
         'Ql': ('So', 'Sc', 'Li'), 'Brq': ('Bro', 'Brc', None),
         'Bq': ('Bo', 'Bc', None)}
CALLABLE = re.compile(r'^(Ql|Cm|Ic|Ar|Fl|Pa|Ev|Dv|Va|Li|Xr|Sy|Em|Qq|Dq|Sq|Brq|Bro|Bq|Pq|Po|Sx|Nm|No|Ns|Op|Ql)$')

def closing(lines):
    out = []
    lit = False
    for line in lines:
        if line.startswith('.Bd') and '-literal' in line:
            lit = True
        elif line.startswith('.Ed'):
            lit = False
        m = None if lit else re.match(r"^\.(\w+)((?: .*)?) ([。、])$", line)
        if not m:
            out.append(line)
            continue
        mac, args, p = m.groups()
        args = args.strip()
        if re.search(r'(^| )Ns$', args) or args == 'Ns' or (mac in BLOCK and not args):
            out.append(line)
            continue
        if mac in BLOCK:
            o, c, inner = BLOCK[mac]
            out.append('.' + o)
            first = args.split(' ', 1)[0]
            if inner:
                out.append('.%s %s' % (inner, args))
            elif CALLABLE.match(first):
                out.append('.' + args)
            else:
                out.append('.No ' + args)
            out.append('.%s Ns %s' % (c, p))
        else:
            out.append(('.%s %s Ns %s' % (mac, args, p)) if args else ('.%s Ns %s' % (mac, p)))
    return out



def joins(lines):
    out = []
    lit = False
    for line in lines:
        if line.startswith('.Bd') and '-literal' in line:
            lit = True
        if line.startswith('.Ed'):
            lit = False
        if not lit and not line.startswith('.\\"'):
            line = re.sub(r'([、。])(?!\\:)(?=\S)', r'\1\\:', line)
        text = not lit and not line.startswith(('.', "'"))
        if (text and out and out[-1][1] and out[-1][0] and line
                and cjk(out[-1][0][-1]) and cjk(line[0])):
            prev = out.pop()[0]
            sep = '' if prev.endswith('\\:') else '\\:'
            line = prev + sep + line
        out.append((line, text))
    return [l for l, _ in out]

PART = set('はをがでにもとのへや')
NOSTART = set('、。ーぁぃぅぇぉっゃゅょァィゥェォッャュョ）」』・：')
def cjk(c):
    o = ord(c)
    return 0x3000 <= o <= 0x30ff or 0x4e00 <= o <= 0x9fff or 0xff00 <= o <= 0xffef
def fixline(s, limit=12):
    out = []
    run = 0
    i = 0
    while i < len(s):
        c = s[i]
        if s.startswith('\\:', i):
            out.append('\\:'); i += 2; run = 0; continue
        if c == '\\':  # other escapes: copy two chars
            out.append(s[i:i+2]); i += 2; run = 0; continue
        out.append(c)
        if c == ' ' or not cjk(c):
            run = 0 if c == ' ' else run
            i += 1; continue
        run += 1
        nxt = s[i+1] if i + 1 < len(s) else ''
        if (c in PART and run >= limit and nxt and cjk(nxt)
                and nxt not in NOSTART and not s.startswith('\\:', i+1)):
            out.append('\\:'); run = 0
        i += 1
    return ''.join(out)
def particles(lines):
    out = []; lit = False
    for line in lines:
        if line.startswith('.Bd') and '-literal' in line: lit = True
        elif line.startswith('.Ed'): lit = False
        if lit or line.startswith('.\\"'):
            out.append(line)
        else:
            out.append(fixline(line))
    return out

def main(paths):
    for path in paths:
        with open(path, encoding='utf-8') as f:
            lines = f.read().split('\n')
        lines = particles(joins(closing(lines)))
        with open(path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines))


if __name__ == '__main__':
    main(sys.argv[1:])
