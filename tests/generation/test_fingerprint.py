"""The weight fingerprint pinned with a generation run's settings."""
import torch

from mmsamrs.generation import state_dict_fingerprint


def test_fingerprint_identifies_the_weights():
    torch.manual_seed(0)
    a = torch.nn.Linear(3, 2)
    b = torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert state_dict_fingerprint(a) == state_dict_fingerprint(b)
    assert len(state_dict_fingerprint(a)) == 64
    with torch.no_grad():
        b.weight[0, 0] += 1e-6
    assert state_dict_fingerprint(a) != state_dict_fingerprint(b)
    assert state_dict_fingerprint(a) != state_dict_fingerprint(a.to(torch.bfloat16))
    torch.manual_seed(1)
    assert state_dict_fingerprint(torch.nn.Linear(3, 2)) != state_dict_fingerprint(a)
