"""``tools/make_splits.py`` as a user runs it: one set, seeded, optionally DIOR trainval only."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def make_splits(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, 'tools/make_splits.py', *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def lines(path: Path):
    return path.read_text().split()


def test_cli_writes_reproducible_split_and_restricts_to_trainval(tmp_path):
    gray = tmp_path / 'sior' / 'gray'
    gray.mkdir(parents=True)
    for i in range(1, 61):
        (gray / f'{i:05d}.png').write_bytes(b'')
    trainval = tmp_path / 'trainval.txt'
    trainval.write_text(''.join(f'{i:05d}\n' for i in range(1, 41)))

    run = make_splits(str(gray), str(tmp_path / 'a'), '--restrict-to', str(trainval))
    assert run.returncode == 0, run.stderr
    assert '60 labels in' in run.stdout
    assert '20 labels left out, 0 listed images without a label' in run.stdout
    assert 'train 38, val 2 (seed 2023)' in run.stdout  # floor(40 * 0.05) = 2
    train, val = lines(tmp_path / 'a' / 'train.txt'), lines(tmp_path / 'a' / 'val.txt')
    assert sorted(train + val) == [f'{i:05d}' for i in range(1, 41)]

    again = make_splits(str(gray), str(tmp_path / 'b'), '--restrict-to', str(trainval))
    assert again.returncode == 0, again.stderr
    assert lines(tmp_path / 'b' / 'val.txt') == val
    other = make_splits(str(gray), str(tmp_path / 'c'), '--seed', '1', '--val-ratio', '0.1')
    assert other.returncode == 0, other.stderr
    assert 'train 54, val 6 (seed 1)' in other.stdout



def test_small_set_gets_one_val_image_and_a_one_image_set_fails_clearly(tmp_path):
    gray = tmp_path / 'tiny' / 'gray'
    gray.mkdir(parents=True)
    for i in range(1, 11):
        (gray / f'{i:05d}.png').write_bytes(b'')
    run = make_splits(str(gray), str(tmp_path / 'a'))
    assert run.returncode == 0, run.stderr
    assert 'note: 0.05 of 10 images rounds down to 0; 1 image was put into val.txt' in run.stdout
    assert 'train 9, val 1 (seed 2023)' in run.stdout
    assert len(lines(tmp_path / 'a' / 'val.txt')) == 1

    for i in range(2, 11):
        (gray / f'{i:05d}.png').unlink()
    one = make_splits(str(gray), str(tmp_path / 'b'))
    assert one.returncode == 1 and 'Traceback' not in one.stderr
    assert f"make_splits.py: only 1 labelled image ('00001') in {str(gray)!r}" in one.stderr
    assert not (tmp_path / 'b').exists()
