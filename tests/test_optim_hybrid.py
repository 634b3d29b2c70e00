"""The usual Muon hybrid: the split of a model, and MuonAdamW equal to Muon and AdamW run apart."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from lrcourse import optim, schedules
from lrcourse.optim import MuonAdamW, muon_adamw, split_for_muon


class TinyLM(nn.Module):
    """An embedding, two blocks of attention-free mixing with norms, and a head tied to the embedding."""

    def __init__(self, vocab=11, width=8, tied=True):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.blocks = nn.ModuleList(
            nn.ModuleDict(
                {"norm": nn.LayerNorm(width), "up": nn.Linear(width, 2 * width), "down": nn.Linear(2 * width, width)}
            )
            for _ in range(2)
        )
        self.head = nn.Linear(width, vocab, bias=False)
        if tied:
            self.head.weight = self.embed.weight

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = x + block["down"](torch.relu(block["up"](block["norm"](x))))
        return self.head(x)


def make_model(seed=0, **kwargs):
    torch.manual_seed(seed)
    return TinyLM(**kwargs).double()


def loss_of(model, step):
    generator = torch.Generator().manual_seed(step)
    tokens = torch.randint(0, 11, (4, 6), generator=generator)
    return nn.functional.cross_entropy(model(tokens).flatten(0, 1), tokens.roll(-1, dims=1).flatten())


def test_split_gives_muon_the_hidden_matrices_only():
    model = make_model(tied=False)
    hidden, rest = split_for_muon(model)
    assert {id(p) for p in hidden} == {id(b[k].weight) for b in model.blocks for k in ("up", "down")}
    for p in [model.embed.weight, model.head.weight] + [b["norm"].weight for b in model.blocks]:
        assert any(p is q for q in rest)
    assert len(hidden) + len(rest) == len(list(model.parameters()))
    assert all(p.ndim == 2 for p in hidden)


def test_a_tied_head_is_listed_once_with_adamw():
    model = make_model(tied=True)
    hidden, rest = split_for_muon(model)
    assert sum(p is model.embed.weight for p in rest) == 1 and not any(p is model.embed.weight for p in hidden)


def test_the_head_can_be_named_or_left_out_and_frozen_parameters_are_skipped():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 4), nn.Linear(4, 2))
    model[0].weight.requires_grad_(False)
    assert [p.shape for p in split_for_muon(model)[0]] == [torch.Size([4, 4])]  # default head: the last Linear
    assert [p.shape for p in split_for_muon(model, head=model[1])[0]] == [torch.Size([2, 4])]
    assert [p.shape for p in split_for_muon(model, head=())[0]] == [torch.Size([4, 4]), torch.Size([2, 4])]
    assert all(p.requires_grad for group in split_for_muon(model) for p in group)


def test_convolution_filters_go_to_adamw():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4, 4), nn.Linear(4, 2))
    hidden, rest = split_for_muon(model)
    assert [p.shape for p in hidden] == [torch.Size([4, 4])]
    assert any(p.ndim == 4 for p in rest)


@pytest.mark.parametrize("tied", [True, False])
def test_muon_adamw_is_muon_and_adamw_run_apart_bit_for_bit(tied):
    """One optimizer, two kinds of group: each parameter moves exactly as under its own optimizer."""
    muon_options, adamw_options = dict(momentum=0.9, adjust_lr_fn="match_rms_adamw"), dict(betas=(0.9, 0.95))
    model = make_model(tied=tied)
    opt = muon_adamw(model, muon_lr=0.02, adamw_lr=3e-3, muon=muon_options, adamw=adamw_options)
    apart = make_model(tied=tied)
    hidden, rest = split_for_muon(apart)
    muon, adamw = optim.Muon(hidden, lr=0.02, **muon_options), optim.AdamW(rest, lr=3e-3, **adamw_options)
    for step in range(8):
        for model_, optimizers in ((model, [opt]), (apart, [muon, adamw])):
            for o in optimizers:
                o.zero_grad()
            loss_of(model_, step).backward()
            for o in optimizers:
                o.step()
    for p, q in zip(model.parameters(), apart.parameters()):
        assert torch.equal(p, q)
    for p, q in zip(opt.param_groups[0]["params"], hidden):
        assert torch.equal(opt.state[p]["b"], muon.state[q]["b"])
    for p, q in zip(opt.param_groups[1]["params"], rest):
        assert opt.state[p].keys() == adamw.state[q].keys() and torch.equal(opt.state[p]["v"], adamw.state[q]["v"])


def test_each_part_follows_its_own_schedule_and_momentum():
    model = make_model()
    opt = muon_adamw(model, muon_lr=0.02, adamw_lr=1e-3)
    muon_schedule = schedules.warmup(schedules.cosine(0.02, total_steps=8), warmup_steps=2)
    adamw_schedule = schedules.cosine(1e-3, total_steps=10)
    momentum = schedules.linear(0.85, 0.95, total_steps=10)  # modded-nanogpt warms Muon's momentum up
    sched = schedules.attach(opt, [muon_schedule, adamw_schedule], momentum=[momentum, schedules.constant(0.9)])
    for step in range(5):
        opt.zero_grad()
        loss_of(model, step).backward()
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == muon_schedule(5) and opt.param_groups[1]["lr"] == adamw_schedule(5)
    assert opt.param_groups[0]["momentum"] == momentum(5) and opt.param_groups[1]["betas"][0] == 0.9


def test_resume_from_state_dict_is_bit_for_bit():
    runs = []
    for split in (None, 5):
        model = make_model()
        opt = muon_adamw(model, muon_lr=0.02, adamw_lr=1e-3)
        for step in range(10):
            if step == split:
                buffer = io.BytesIO()
                torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, buffer)
                buffer.seek(0)
                saved = torch.load(buffer, weights_only=True)
                model = make_model(seed=1)
                model.load_state_dict(saved["model"])
                opt = muon_adamw(model, muon_lr=0.5, adamw_lr=0.5)  # the rates come back from the checkpoint
                opt.load_state_dict(saved["opt"])
            opt.zero_grad()
            loss_of(model, step).backward()
            opt.step()
        runs.append(model)
    for p, q in zip(*(m.parameters() for m in runs)):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    ("group", "message"),
    [
        (dict(lr=0.02), "^use_muon must be given"),
        (dict(use_muon=True), "^lr must be given"),
        (dict(use_muon=True, lr=0.02, betas=(0.9, 0.95)), "^betas is not a hyperparameter of Muon"),
        (dict(use_muon=False, lr=1e-3, momentum=0.9), "^momentum is not a hyperparameter of AdamW"),
        (dict(use_muon=True, lr=-0.02), "^lr must be >= 0"),
        (dict(use_muon=True, lr=0.02, adjust_lr_fn="rms"), "^adjust_lr_fn"),
        (dict(use_muon=False, lr=1e-3, betas=(0.9, 1.0)), r"^betas\[1\]"),
        (dict(use_muon=False, lr=1e-3, weight_decay=-0.1), "^weight_decay"),
    ],
)
def test_a_bad_group_is_refused_naming_what_is_wrong(group, message):
    with pytest.raises(ValueError, match=message):
        MuonAdamW([{"params": [nn.Parameter(torch.ones(2, 2))], **group}])


def test_a_muon_group_takes_matrices_only():
    with pytest.raises(ValueError, match=r"^params: Muon takes real 2-D matrices"):
        MuonAdamW([{"params": [nn.Parameter(torch.ones(3))], "use_muon": True, "lr": 0.02}])
    MuonAdamW([{"params": [nn.Parameter(torch.ones(3))], "use_muon": False, "lr": 1e-3}])


def test_a_model_without_parameters_is_refused():
    with pytest.raises(ValueError, match="no trainable parameters"):
        muon_adamw(nn.ReLU(), muon_lr=0.02, adamw_lr=1e-3)
