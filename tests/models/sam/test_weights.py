"""SAM weight files load with weights_only=True: tensors only, a crafted file runs nothing."""
from pathlib import Path

import pytest
import torch

from mmsamrs.models.sam import SAMGenerator, build_sam, load_sam_weights


class CodeOnLoad:
    """A pickled object that writes ``marker`` when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f'open({str(self.marker)!r}, "w").write("ran")', )


def test_crafted_checkpoint_is_refused_before_its_code_runs(tmp_path, sam_testing):
    marker = tmp_path / 'code_ran'
    state = build_sam(sam_testing.TINY_ARCH).state_dict()
    path = tmp_path / 'sam_tiny.pth'
    torch.save(dict(state, payload=CodeOnLoad(marker)), path)
    with pytest.raises(ValueError, match=r'sam_tiny\.pth was refused.*\(exec\)'):
        SAMGenerator(arch=sam_testing.TINY_ARCH, checkpoint=str(path))
    assert not marker.exists()
    # the same file with an unrestricted load would have run the code
    torch.load(path, weights_only=False)
    assert marker.read_text() == 'ran'


def test_raw_and_runner_checkpoints_with_prefixes(tmp_path, sam_testing):
    state = build_sam(sam_testing.TINY_ARCH).state_dict()
    torch.save({f'module.sam.{k}': v for k, v in state.items()}, tmp_path / 'ddp.pth')
    torch.save(dict(state_dict={f'sam.{k}': v for k, v in state.items()}, meta=dict(iter=3)),
               tmp_path / 'iter_3.pth')
    for name in ('ddp.pth', 'iter_3.pth'):
        loaded = load_sam_weights(str(tmp_path / name))
        assert loaded.keys() == state.keys()
        assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_url_is_read_weights_only(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url',
                        lambda url, **kwargs: calls.append((url, kwargs)) or {'a': torch.ones(1)})
    assert list(load_sam_weights('https://example.org/sam.pth')) == ['a']
    assert calls == [('https://example.org/sam.pth',
                      dict(map_location='cpu', weights_only=True))]


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_sam_weights(str(tmp_path / 'missing.pth'))
    torch.save([torch.ones(1)], tmp_path / 'list.pth')
    with pytest.raises(ValueError, match=r'list\.pth holds list, expected a state dict'):
        load_sam_weights(str(tmp_path / 'list.pth'))


def test_url_without_network_says_how_to_give_the_file(monkeypatch):
    from urllib.error import URLError

    def offline(url, **kwargs):
        raise URLError('Name or service not known')

    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url', offline)
    url = 'https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth'
    with pytest.raises(RuntimeError, match=r'cannot download the SAM checkpoint .*'
                       r'model\.checkpoint=/path/to/sam_vit_h_4b8939\.pth'):
        load_sam_weights(url)
