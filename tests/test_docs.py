"""The README and the docs: every relative link and referenced repository path exists, and
every block marked runnable runs.

Convention: a fenced ``bash`` or ``python`` block whose preceding non-blank line is
``<!-- runnable -->`` is executed, the blocks of one page in order in one temporary
directory that links the repository's ``configs``, ``tools``, ``tests`` (so
``tests/data/...`` is the data root), ``benchmarks`` and ``data``: outputs such as
``work_dirs/...`` land in that directory. Commands run verbatim, so a runnable block must
read only ``tests/data`` and finish in seconds on a CPU.
"""
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The pages checked: the README, the docs and the config folders' model tables.
PAGES = sorted(
    [REPO / 'README.md', *(REPO / 'docs').rglob('*.md'), *(REPO / 'configs').rglob('*.md')])
#: Folders a runnable block sees in its working directory (links into the repository).
LINKED = ('configs', 'tools', 'tests', 'benchmarks', 'data', 'mmsamrs')
RUNNABLE = '<!-- runnable -->'
#: A repository path as written in prose or commands: a top-level folder of the repository
#: and the rest of the path (placeholders ``<x>``, globs and ``{a,b}`` alternatives allowed).
REPO_PATH = re.compile(r'(?<![\w./$-])((?:configs|tools|mmsamrs|tests|benchmarks|docs|\.ci)'
                       r'/[\w./*{},<>@+-]*|data/README\.md)')
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')


def page_id(page: Path) -> str:
    """The page's path relative to the repository (test ids)."""
    return str(page.relative_to(REPO))


def split_fences(text: str) -> Iterator[Tuple[str, str, str, str]]:
    """``(kind, language, body, preceding line)`` pieces of a page, ``kind`` being
    ``'prose'`` or ``'code'``; the language and preceding line are empty for prose."""
    prose: List[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r'^(\s*)(```+)(\w*)', lines[i])
        if not match:
            prose.append(lines[i])
            i += 1
            continue
        before = next((line.strip() for line in reversed(prose) if line.strip()), '')
        yield 'prose', '', '\n'.join(prose), ''
        prose = []
        fence, body = match.group(2), []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(match.group(1)):])
            i += 1
        yield 'code', match.group(3), '\n'.join(body), before
        i += 1
    yield 'prose', '', '\n'.join(prose), ''


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r'[`*]', '', heading.strip().lower())
    return re.sub(r'[^\w\- ]', '', text).replace(' ', '-')


def anchors(page: Path) -> List[str]:
    """The heading anchors of ``page`` (duplicates numbered as GitHub does)."""
    seen: Dict[str, int] = {}
    found = []
    for kind, _, body, _ in split_fences(page.read_text(encoding='utf-8')):
        if kind != 'prose':
            continue
        for line in body.splitlines():
            match = re.match(r'^#{1,6} (.+)$', line)
            if match:
                base = slug(match.group(1))
                count = seen.get(base, 0)
                seen[base] = count + 1
                found.append(base if count == 0 else f'{base}-{count}')
    return found


def broken_links(page: Path) -> List[str]:
    """Relative links of ``page`` (outside code) whose file or heading anchor is missing."""
    broken = []
    for kind, _, body, _ in split_fences(page.read_text(encoding='utf-8')):
        if kind != 'prose':
            continue
        for target in LINK.findall(re.sub(r'`[^`\n]*`', '', body)):
            if re.match(r'^[a-z]+:', target):
                continue
            path, _, anchor = target.partition('#')
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f'{target}: no file {resolved}')
            elif anchor and resolved.suffix == '.md' and anchor not in anchors(resolved):
                broken.append(f'{target}: no heading #{anchor} in {resolved.name}')
    return broken


def expand(pattern: str) -> List[str]:
    """Glob patterns of a written path: ``{a,b}`` alternatives expanded, ``<x>`` -> ``*``."""
    pattern = re.sub(r'<[^>]*>', '*', pattern)
    parts = re.split(r'\{([^{}]*)\}', pattern)
    choices = [part.split(',') if i % 2 else [part] for i, part in enumerate(parts)]
    return [''.join(combo) for combo in itertools.product(*choices)]


def missing_paths(page: Path) -> List[str]:
    """Repository paths named by ``page`` (prose and code) that match no file or folder.

    A path with ``{a,b}`` alternatives must match for at least one combination."""
    missing = []
    for written in sorted(set(REPO_PATH.findall(page.read_text(encoding='utf-8')))):
        written = written.rstrip('.,:;')
        if written.startswith('tests/data/') and written.endswith('/'):
            written = written.rstrip('/')
        if not any(list(REPO.glob(p.rstrip('/'))) for p in expand(written)):
            missing.append(written)
    return missing


def runnable_blocks(page: Path) -> List[Tuple[str, str]]:
    """``(language, body)`` of the blocks of ``page`` marked runnable, in order."""
    return [(lang, body)
            for kind, lang, body, before in split_fences(page.read_text(encoding='utf-8'))
            if kind == 'code' and before == RUNNABLE]


@pytest.mark.parametrize('page', PAGES, ids=page_id)
def test_relative_links_exist(page):
    assert broken_links(page) == []


@pytest.mark.parametrize('page', PAGES, ids=page_id)
def test_referenced_repository_paths_exist(page):
    assert missing_paths(page) == []


def test_no_citation_of_documents_outside_the_repository():
    # written in pieces so that this file does not match the patterns itself
    outside = re.compile('|'.join([r'\bSPEC\b', r'\.\./' + 'shared', 'MMSAMRS_' + 'REALDATA']))
    files = [REPO / 'README.md'] + [
        path for folder in ('mmsamrs', 'configs', 'tools', 'docs', 'benchmarks', 'tests')
        for path in (REPO / folder).rglob('*')
        if path.suffix in ('.py', '.md', '.sh') and (REPO / 'tests' / 'data') not in path.parents
    ]
    cited = [
        f'{path.relative_to(REPO)}: {match}' for path in files
        for match in outside.findall(path.read_text(encoding='utf-8'))
    ]
    assert cited == []


def test_readme_is_short():
    assert len((REPO / 'README.md').read_text(encoding='utf-8').splitlines()) <= 250


def test_checkers_find_broken_links_missing_paths_and_runnable_blocks(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text(
        '# Title\n\n## A `code` heading (x)\n\n'
        '[ok](page.md#a-code-heading-x) [bad](nowhere.md) [anchor](#nope) '
        '[web](https://example.com)\n\n'
        'See `tools/split_images.py`, `configs/sep/*.py`, `tools/no_such_tool.py`, '
        '`configs/finetune/{potsdam,isaid}/upernet_r50_<dataset>.py`.\n\n'
        '<!-- runnable -->\n```bash\necho hi\n```\n\n```bash\necho no\n```\n',
        encoding='utf-8')
    assert anchors(page) == ['title', 'a-code-heading-x']
    assert [b.split(':')[0] for b in broken_links(page)] == ['nowhere.md', '#nope']
    assert missing_paths(page) == ['tools/no_such_tool.py']
    assert runnable_blocks(page) == [('bash', 'echo hi')]


RUNNABLE_PAGES = [page for page in PAGES if runnable_blocks(page)]


def test_the_guides_have_runnable_examples():
    names = {page.name for page in RUNNABLE_PAGES}
    assert {
        'README.md', 'split_images.md', 'generate_masks.md', 'sam_generator.md',
        'source_readers.md', 'statistics_visualization.md'
    } <= names


@pytest.mark.slow
@pytest.mark.parametrize('page', RUNNABLE_PAGES, ids=page_id)
def test_runnable_blocks_run(page, tmp_path):
    for name in LINKED:
        (tmp_path / name).symlink_to(REPO / name)
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ["PATH"]}')
    for lang, body in runnable_blocks(page):
        command = ['bash', '-euo', 'pipefail', '-c', body
                   ] if lang == 'bash' else [sys.executable, '-c', body]
        run = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f'{lang} block of {page_id(page)} failed:\n{body}\n' \
            f'{run.stdout[-3000:]}\n{run.stderr[-3000:]}'
