"""G as a program (results/program.py): what a deferred evaluation saves instead of G's samples. The program must
rebuild G's forward exactly from data, and a reader must refuse any program that reaches outside torch's tensor
operations, since a results directory may come from anyone."""

import json

import pytest
import torch
from torch import nn

from ganbench.results import program


class _ConvG(nn.Module):
    """A DCGAN-style G: reshape, transposed convolutions, batch norm, a tensor method and an operator."""

    def __init__(self):
        super().__init__()
        self.project = nn.Linear(8, 16 * 4 * 4)
        self.up = nn.Sequential(nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
                                nn.ConvTranspose2d(8, 1, 4, 2, 1))

    def forward(self, z):
        x = self.project(z).view(-1, 16, 4, 4)
        return torch.tanh(self.up(x)) * 0.5 + x.mean()


class _Tanh(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(2, 2)

    def forward(self, z):
        return torch.tanh(self.net(z))  # a torch function in the graph, for the tests to rewrite


def _rebuilt(g):
    captured = program.loads(program.dumps(program.capture(g)))
    state = {**dict(g.named_parameters()), **dict(g.named_buffers())}
    return program.build(captured, {name: state[name].detach().clone() for name in program.state_names(captured)})


def test_a_convolutional_g_with_batch_norm_is_rebuilt_exactly_from_its_json():
    torch.manual_seed(0)
    g = _ConvG()
    g.train()
    for _ in range(3):  # running statistics that differ from their initial values
        g(torch.randn(32, 8))
    g.eval()
    z = torch.randn(50, 8)
    with torch.no_grad():
        assert torch.equal(_rebuilt(g)(z), g(z))


def test_a_g_with_python_control_flow_or_a_parametrized_module_is_no_program():
    class Branching(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(2, 2)

        def forward(self, z):
            return self.net(z) if z.sum() > 0 else -self.net(z)

    with pytest.raises(program.NotAProgram, match="cannot trace"):
        program.capture(Branching())
    # a parametrized module (spectral norm) computes its weight in code of its own
    spectral = nn.Sequential(nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2)))
    with pytest.raises(program.NotAProgram, match="not one of torch.nn's"):
        program.capture(spectral)


def test_the_loops_own_modules_of_torch_operations_are_traced_through():
    class Doubling(nn.Module):
        def forward(self, z):
            return z * 2

    g = nn.Sequential(nn.Linear(2, 2), Doubling())
    z = torch.randn(5, 2)
    with torch.no_grad():
        assert torch.equal(_rebuilt(g)(z), g(z))


class _SizedByLen(nn.Module):
    """A G that asks Python for the batch size, as the corpus's BCE MLP does."""

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(2, 6)

    def forward(self, z):
        return self.net(z).view(len(z), 3, 2)


def test_len_of_the_input_is_recorded_in_the_program_and_the_modules_code_left_as_found():
    g = _SizedByLen()
    rebuilt = _rebuilt(g)
    with torch.no_grad():
        for batch in (7, 2):  # the batch size is read from the input, not fixed at the traced one
            z = torch.randn(batch, 2)
            assert torch.equal(rebuilt(z), g(z))
    assert "len" not in globals()


@pytest.mark.parametrize("change, why", [
    (lambda node: node.update(target="torch:load"), "not allowed"),
    (lambda node: node.update(target="torch:manual_seed"), "not allowed"),
    (lambda node: node.update(target="os:system"), "not allowed"),
    (lambda node: node.update(target="builtins.eval"), "not allowed"),
    (lambda node: node.update(op="call_method", target="numpy"), "not allowed"),
    (lambda node: node.update(op="call_method", target="__reduce__"), "not allowed"),
])
def test_a_program_that_reaches_outside_tensor_operations_is_refused(change, why):
    captured = program.capture(_Tanh())
    node = next(n for n in captured["nodes"] if n["op"] == "call_function")
    change(node)
    with pytest.raises(program.NotAProgram, match=why):
        program.build(json.loads(json.dumps(captured)), {"net.weight": torch.ones(2, 2), "net.bias": torch.ones(2)})


def test_a_module_setting_that_would_replace_a_method_is_refused():
    captured = program.capture(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
    captured["modules"]["1"]["settings"]["dict"]["forward"] = "x"
    with pytest.raises(program.NotAProgram, match="'forward' is not allowed"):
        program.build(captured, {"0.weight": torch.ones(2, 2), "0.bias": torch.ones(2)})


class _WaitingG(nn.Module):
    """A G whose forward, while torch.fx traces it, lets another thread run and waits for it to finish."""

    def __init__(self, tracing, other_done):
        super().__init__()
        self.net, self.tracing, self.other_done = nn.Linear(2, 2), tracing, other_done

    def forward(self, z):
        self.tracing.set()
        assert self.other_done.wait(10)
        return self.net(z)


def test_a_module_called_from_another_thread_while_g_is_traced_runs_untouched():
    """torch.fx patches nn.Module for the whole process while it traces. A barrier makes the overlap certain: a
    module another thread calls meanwhile (another tracker's G, the loop's data thread) must run as if nothing
    traced -- on torch.fx's own tracer it raised "module is not installed as a submodule" -- and the trace must
    still hold G's graph."""
    import threading

    tracing, other_done = threading.Event(), threading.Event()
    seen = {}

    def other():
        assert tracing.wait(10)
        try:
            layer = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            seen["out"] = layer(torch.ones(4, 2))
            seen["weight"] = layer[0].weight
        except Exception as error:  # noqa: BLE001 -- the failure this test is about
            seen["error"] = error
        finally:
            other_done.set()

    thread = threading.Thread(target=other)
    thread.start()
    g = _WaitingG(tracing, other_done)
    captured = program.capture(g)
    thread.join()
    assert "error" not in seen, seen.get("error")
    assert seen["out"].shape == (4, 3) and isinstance(seen["weight"], nn.Parameter)
    assert [n["op"] for n in captured["nodes"]] == ["placeholder", "call_module", "output"]
