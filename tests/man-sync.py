#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check that the Japanese man pages are in step with the English ones.

  tests/man-sync.py            compare man/X with man/ja/X for both pages,
                               and the commands of README.ja.md
  tests/man-sync.py EN JA      compare one pair
  tests/man-sync.py --self-test
                               show that the check fails when the Japanese
                               page loses an option, a key or a heading

From each page it takes: the .Sh/.Ss headings in order (a Japanese heading
is named by the comment '.\\" en: HEADING' on the line above it), every
option as marked up with Fl, every key marked up with Ic, every variable
marked up with Ev, every code E###, W## and T# in the text, and the items
of the EXIT STATUS section.  Any difference, either way, is an error.

tests/man-sync-pending lists items that the Japanese pages already have
and the English pages are about to get (one per line: PAGE KIND ITEM);
they are not errors while the English page lacks them.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ['sanso.8', 'sanso-zones.5']
# mdoc macros that may be called on a macro line (they end an Fl/Ic/Ev run).
CALLABLE = set('''Ac Ad An Ao Ap Aq Ar At Bc Bo Bq Brc Bro Brq Bsx Bx Cd Cm
Dc Do Dq Dv Dx Ec Em En Eo Er Es Ev Fa Fc Fl Fn Fo Fr Ft Fx Ic Li Lk Ms
Nm No Ns Nx Oc Oo Op Ox Pa Pc Pf Po Pq Qc Ql Qo Qq Sc So Sq Sx Sy Ta Tn
Ux Va Vt Xc Xo Xr'''.split())
DELIM = set('| , ; : . ( ) [ ] ? !'.split())
CODE = re.compile(r'(?<![\w-])(E\d{3}|W\d{2}|T\d{1,2})(?![\w])')


def parse(path):
    """The items of one page: a list of headings and a dict of sets."""
    heads = []
    items = {'option': set(), 'key': set(), 'env': set(), 'code': set(),
             'exit': set()}
    en = None
    section = None
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    for line in lines:
        m = re.match(r'^\.\\" en: (.+)$', line)
        if m:
            en = m.group(1).strip()
            continue
        if line.startswith('.\\"'):
            continue
        m = re.match(r'^\.(Sh|Ss) (.+)$', line)
        if m:
            name = en if en else m.group(2).strip()
            en = None
            heads.append('%s %s' % (m.group(1), name))
            if m.group(1) == 'Sh':
                section = name
            continue
        en = None
        text = line.replace('\\&', '').replace('\\:', '')
        for c in CODE.findall(text):
            items['code'].add(c)
        if not text.startswith('.'):
            continue
        toks = text[1:].split()
        mode = None
        for i, t in enumerate(toks):
            if t in CALLABLE or (i == 0):
                mode = {'Fl': 'option', 'Ic': 'key', 'Ev': 'env'}.get(t)
                if i == 0 and t == 'It' and section == 'EXIT STATUS' \
                        and len(toks) > 1:
                    items['exit'].add(' '.join(
                        x for x in toks[1:] if x not in DELIM))
                if t == 'Fl' and (i + 1 == len(toks)
                                  or toks[i + 1] in CALLABLE):
                    items['option'].add('-')
                continue
            if mode is None or t in DELIM:
                continue
            if mode == 'option':
                items['option'].add('-' + t.rstrip(','))
            else:
                items[mode].add(t.rstrip(','))
    return heads, items


def pending_items():
    p = {}
    path = os.path.join(ROOT, 'tests', 'man-sync-pending')
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith('#'):
                    page, kind, item = line.split(None, 2)
                    p.setdefault((page, kind), set()).add(item)
    return p


def heading_diff(eh, jh):
    """Differences between two ordered lists of headings, as messages."""
    out = []
    for h in eh:
        if h not in jh:
            out.append('heading missing in Japanese: %s' % h)
    for h in jh:
        if h not in eh:
            out.append('heading only in Japanese: %s' % h)
    common_e = [h for h in eh if h in jh]
    common_j = [h for h in jh if h in eh]
    if common_e != common_j:
        for a, b in zip(common_e, common_j):
            if a != b:
                out.append('headings out of order: English has %s where '
                           'Japanese has %s' % (a, b))
                break
    return out


def compare(en_path, ja_path, pending=None):
    page = os.path.basename(en_path)
    pending = pending or {}
    eh, ei = parse(en_path)
    jh, ji = parse(ja_path)
    errs = []
    notes = []
    pend_heads = pending.get((page, 'heading'), set())
    jh_cmp = [h for h in jh if not (h.split(' ', 1)[1] in pend_heads
                                    and h not in eh)]
    for h in jh:
        if h not in jh_cmp:
            notes.append('pending (not yet in English): heading %s' % h)
    errs += heading_diff(eh, jh_cmp)
    for kind in ('option', 'key', 'env', 'code', 'exit'):
        pend = pending.get((page, kind), set())
        for x in sorted(ei[kind] - ji[kind]):
            errs.append('%s missing in Japanese: %s' % (kind, x))
        for x in sorted(ji[kind] - ei[kind]):
            if x in pend:
                notes.append('pending (not yet in English): %s %s'
                             % (kind, x))
            else:
                errs.append('%s only in Japanese: %s' % (kind, x))
        for x in sorted(pend & ei[kind]):
            notes.append('now in English, remove from man-sync-pending: '
                         '%s %s %s' % (page, kind, x))
    for h in sorted(pend_heads):
        if ('Sh ' + h) in eh or ('Ss ' + h) in eh:
            notes.append('now in English, remove from man-sync-pending: '
                         '%s heading %s' % (page, h))
    return errs, notes


def code_lines(path):
    """The commands and output lines of the fenced code blocks of a
    Markdown file: without a trailing '# comment' or a '$ ' or '# '
    prompt; a line that is only a comment is left out."""
    out = []
    inside = False
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if line.lstrip().startswith('```'):
                inside = not inside
                continue
            if not inside:
                continue
            s = re.sub(r'\s+#\s.*$', '', line.rstrip('\n')).strip()
            m = re.match(r'^[#$]\s*(.*)$', s)
            if m:
                s = m.group(1)
                if not s or not s[0].isascii():
                    continue
            if s:
                out.append((n, s))
    return out


def readme_check(ja=os.path.join(ROOT, 'README.ja.md')):
    en = os.path.join(ROOT, 'README.md')
    if not os.path.exists(ja):
        return []
    known = [s for _, s in code_lines(en)]
    errs = []
    for n, s in code_lines(ja):
        if not any(s in k for k in known):
            errs.append('README.ja.md:%d: not a command README.md gives: %s'
                        % (n, s))
    return errs


def report(label, errs, notes):
    for n in notes:
        print('%s: note: %s' % (label, n))
    for e in errs:
        print('%s: %s' % (label, e))


def self_test():
    """Remove one option, one key and one heading from copies of the
    Japanese pages: each must be reported."""
    ok = True
    tmp = tempfile.mkdtemp()
    try:
        cases = [
            ('sanso.8', lambda l: 'Fl -dnsmasq' in l,
             'option missing in Japanese: --dnsmasq'),
            ('sanso-zones.5', lambda l: 'Ic max_stale' in l,
             'key missing in Japanese: max_stale'),
            ('sanso-zones.5', lambda l: l == '.\\" en: Waivers',
             'heading missing in Japanese: Ss Waivers'),
            ('sanso.8', lambda l: l == '.It 3',
             'exit missing in Japanese: 3'),
            ('sanso-zones.5', lambda l: l == '.It W10',
             'code missing in Japanese: W10'),
        ]
        for page, drop, want in cases:
            src = os.path.join(ROOT, 'man', 'ja', page)
            dst = os.path.join(tmp, page)
            with open(src, encoding='utf-8') as f:
                lines = f.read().split('\n')
            with open(dst, 'w', encoding='utf-8') as f:
                f.write('\n'.join(l for l in lines if not drop(l)))
            errs, _ = compare(os.path.join(ROOT, 'man', page), dst,
                              pending_items())
            if want in errs:
                print('self-test: %s: reported: %s' % (page, want))
            else:
                print('self-test: %s: NOT reported: %s (got %s)'
                      % (page, want, errs))
                ok = False
        # An extra option in the Japanese page is reported too.
        dst = os.path.join(tmp, 'sanso.8')
        shutil.copy(os.path.join(ROOT, 'man', 'ja', 'sanso.8'), dst)
        with open(dst, 'a', encoding='utf-8') as f:
            f.write('.Pp\n.Fl -no-such-option\n')
        errs, _ = compare(os.path.join(ROOT, 'man', 'sanso.8'), dst,
                          pending_items())
        want = 'option only in Japanese: --no-such-option'
        print('self-test: sanso.8: %s: %s'
              % ('reported' if want in errs else 'NOT reported', want))
        ok = ok and want in errs
        # A command README.md does not give, in README.ja.md.
        dst = os.path.join(tmp, 'README.ja.md')
        with open(os.path.join(ROOT, 'README.ja.md'),
                  encoding='utf-8') as f:
            text = f.read()
        with open(dst, 'w', encoding='utf-8') as f:
            f.write(text + '\n```\n# sanso apply --no-such-option\n```\n')
        errs = readme_check(dst)
        hit = any('sanso apply --no-such-option' in e for e in errs)
        print('self-test: README.ja.md: %s: a command README.md lacks'
              % ('reported' if hit else 'NOT reported'))
        ok = ok and hit
    finally:
        shutil.rmtree(tmp)
    return ok


def main(argv):
    if argv[1:] == ['--self-test']:
        return 0 if self_test() else 1
    if len(argv) == 3:
        errs, notes = compare(argv[1], argv[2], pending_items())
        report(argv[2], errs, notes)
        return 1 if errs else 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    bad = False
    pend = pending_items()
    for page in PAGES:
        errs, notes = compare(os.path.join(ROOT, 'man', page),
                              os.path.join(ROOT, 'man', 'ja', page), pend)
        report('man/ja/' + page, errs, notes)
        bad = bad or bool(errs)
    errs = readme_check()
    report('README.ja.md', errs, [])
    bad = bad or bool(errs)
    if not bad:
        print('man-sync: man/ja in step with man/ (%s), README.ja.md '
              'commands in README.md' % ', '.join(PAGES))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
