"""G as a program a reader can run without the loop's code: torch.fx's graph of G's forward, saved as data.

A deferred evaluation (results/deferred.py) saves G's weights instead of its samples where G is such a program, so
the loop does not pay for G's forward pass over every latent. The program is JSON: the graph's nodes (torch
functions and tensor methods named from an allow-list, arguments as plain data) and G's torch.nn modules by class
and settings. Reading it imports nothing and unpickles nothing, so reading a results directory still runs no code
from it (docs/results.md, "Untrusted input").
"""

from __future__ import annotations

import importlib
import json
import operator
import threading
import types
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, fx, nn

# where the functions a program calls may come from: tensor operations only (no file, process or import access)
FUNCTION_MODULES = ("torch", "torch.nn.functional", "torch.functional", "torch._C._nn", "torch._C._special",
                    "torch._C._linalg", "torch._C._fft", "torch._C._VariableFunctions")
OPERATORS = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "pos", "matmul", "getitem", "eq", "ne", "lt",
    "le", "gt", "ge", "and_", "or_", "xor", "invert", "abs")}
BUILTINS = {"len": len, "getattr": getattr}
ATTRIBUTES = ("shape", "dtype", "device", "ndim", "T")  # what getattr may read off a tensor
# torch functions that touch files, the process's global state or the compiler, whatever their module
FUNCTIONS_OUT = ("from_file", "load", "save", "manual_seed", "seed", "initial_seed", "compile",
                 "use_deterministic_algorithms")
# tensor methods that leave torch (numpy) or call back into Python
METHODS_OUT = ("numpy", "apply_", "map_", "map2_", "register_hook", "register_post_accumulate_grad_hook", "backward",
               "storage", "untyped_storage", "share_memory_", "tofile")
MODULE_INTERNALS = frozenset(vars(nn.Module()))  # what every module has: its tensors, children, hooks, mode
PLAIN = (type(None), bool, int, float, str)


class NotAProgram(Exception):
    """G's forward is not a program of torch.nn modules and torch functions over plain data."""


# torch.fx patches nn.Module's __call__ and __getattr__ for the whole process while it traces, and two traces at
# once would restore each other's patches in the wrong order: one trace at a time
_TRACING = threading.Lock()


class _OwnThreadTracer(fx.Tracer):
    """torch.fx's tracer for the tracing thread alone: a module that another thread calls while G is traced (another
    tracker's G, the loop's data or logging thread) runs as if nothing traced, instead of meeting this tracer's
    patches (where it raised "module is not installed as a submodule")."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def call_module(self, m: nn.Module, forward: Any, args: tuple, kwargs: dict) -> Any:
        if threading.get_ident() != self.thread:
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict) -> Any:
        if threading.get_ident() != self.thread:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)


def capture(g: nn.Module) -> dict[str, Any]:
    """G's forward (as it runs now: call it in eval mode) as JSON-ready data; NotAProgram where it is none."""
    tracer = _OwnThreadTracer()
    try:
        with _TRACING, _len_recorded(g, tracer):
            graph = tracer.trace(g)
    except Exception as error:  # noqa: BLE001 -- tracing runs the loop's own code, which may raise anything
        raise NotAProgram(f"torch.fx cannot trace G: {error}") from error
    modules, nodes = {}, []
    for node in graph.nodes:
        if node.op == "call_module":
            modules[node.target] = _module_spec(g.get_submodule(node.target))
        nodes.append({"op": node.op, "name": node.name, "target": _target(node), "args": _encode(node.args),
                      "kwargs": _encode(node.kwargs)})
    return {"modules": modules, "nodes": nodes}


@contextmanager
def _len_recorded(g: nn.Module, tracer: fx.Tracer):
    """While G is traced, ``len(x)`` in its modules' code is a node of the graph, as ``torch.fx.wrap("len")`` in
    the loop's own module would make it (``x.view(len(x), ...)`` is common in G's forward, and torch.fx cannot
    trace ``len`` of a tensor otherwise): the name ``len`` is set in the globals of the code of each module the
    tracer goes into (not its leaves, torch.nn's layers) that reads the builtin, and removed afterwards."""
    def recorded_len(value: Any) -> Any:
        if isinstance(value, fx.Proxy):
            return value.tracer.create_proxy("call_function", len, (value,), {})
        return len(value)

    patched = {}
    for name, module in g.named_modules():
        if name and tracer.is_leaf_module(module, name):
            continue
        namespace = getattr(type(module).forward, "__globals__", None)
        if namespace is not None and "len" not in namespace:
            patched[id(namespace)] = namespace
    try:
        for namespace in patched.values():
            namespace["len"] = recorded_len
        yield
    finally:
        for namespace in patched.values():
            if namespace.get("len") is recorded_len:
                del namespace["len"]


def state_names(program: dict[str, Any]) -> list[str]:
    """The qualified names of the parameters and buffers a program reads: what an evaluation saves of G."""
    names = [n["target"] for n in program["nodes"] if n["op"] == "get_attr"]
    for prefix, spec in program["modules"].items():
        names += [f"{prefix}.{name}" for name in spec["tensors"]]
    return names


def build(program: dict[str, Any], weights: dict[str, Tensor]) -> fx.GraphModule:
    """The runnable program, with G's parameters and buffers from ``weights``. Raises NotAProgram on a program
    that names anything off the allow-lists."""
    root = nn.Module()
    for prefix, spec in program["modules"].items():
        parent, _, name = prefix.rpartition(".")
        _submodule(root, parent).add_module(name, _make_module(spec, {k: weights[f"{prefix}.{k}"]
                                                                    for k in spec["tensors"]}))
    graph, made = fx.Graph(), {}
    for node in program["nodes"]:
        op, target = node["op"], node["target"]
        args, kwargs = _decode(node["args"], made), _decode(node["kwargs"], made)
        if op == "placeholder":
            made[node["name"]] = graph.placeholder(target)
        elif op == "get_attr":
            parent, _, name = target.rpartition(".")
            _submodule(root, parent).register_buffer(name, weights[target])
            made[node["name"]] = graph.get_attr(target)
        elif op == "call_function":
            made[node["name"]] = graph.call_function(_function(target, args), tuple(args), kwargs)
        elif op == "call_method":
            if target.startswith("_") or target in METHODS_OUT or not hasattr(Tensor, target):
                raise NotAProgram(f"the tensor method {target!r} is not allowed")
            made[node["name"]] = graph.call_method(target, tuple(args), kwargs)
        elif op == "call_module":
            made[node["name"]] = graph.call_module(target, tuple(args), kwargs)
        elif op == "output":
            graph.output(args[0])
        else:
            raise NotAProgram(f"unknown node kind {op!r}")
    return fx.GraphModule(root, graph).eval()


def dumps(program: dict[str, Any]) -> str:
    return json.dumps(program)


def loads(text: str) -> dict[str, Any]:
    return json.loads(text)


def _target(node: fx.Node) -> str:
    if node.op != "call_function":
        return node.target
    fn = node.target
    module = getattr(fn, "__module__", None) or ""
    if fn is len or fn is getattr:
        return f"builtins.{fn.__name__}"
    if module in ("_operator", "operator") and OPERATORS.get(fn.__name__) is fn:
        return f"operator.{fn.__name__}"
    if module in FUNCTION_MODULES and isinstance(fn, (types.FunctionType, types.BuiltinFunctionType)):
        return f"{module}:{fn.__name__}"
    raise NotAProgram(f"G calls {module}.{getattr(fn, '__name__', fn)}, not a torch function")


def _function(target: str, args: list[Any]) -> Any:
    if target.startswith("builtins."):
        name = target.removeprefix("builtins.")
        if name not in BUILTINS or (name == "getattr" and (len(args) != 2 or args[1] not in ATTRIBUTES)):
            raise NotAProgram(f"{target} with {args[1:]!r} is not allowed")
        return BUILTINS[name]
    if target.startswith("operator."):
        name = target.removeprefix("operator.")
        if name not in OPERATORS:
            raise NotAProgram(f"{target} is not allowed")
        return OPERATORS[name]
    module, _, name = target.partition(":")
    if module not in FUNCTION_MODULES or name.startswith(("_", "set_")) or name in FUNCTIONS_OUT:
        raise NotAProgram(f"{target} is not allowed")
    fn = getattr(importlib.import_module(module) if not module.startswith("torch._C") else
                 _c_module(module), name, None)
    if not isinstance(fn, (types.FunctionType, types.BuiltinFunctionType)) or fn.__module__ not in FUNCTION_MODULES:
        raise NotAProgram(f"{target} is not a torch function")
    return fn


def _c_module(name: str) -> Any:
    holder = torch._C
    for part in name.split(".")[2:]:
        holder = getattr(holder, part)
    return holder


def _module_spec(module: nn.Module) -> dict[str, Any]:
    """A torch.nn module as its class name, its settings (plain data) and the names of its tensors."""
    cls = type(module)
    if getattr(nn, cls.__name__, None) is not cls:
        raise NotAProgram(f"G's module {cls.__module__}.{cls.__qualname__} is not one of torch.nn's")
    if list(module.children()) or any(getattr(module, k) for k in MODULE_INTERNALS if "hooks" in k):
        raise NotAProgram(f"G's {cls.__name__} holds modules or hooks of its own")
    settings = {k: v for k, v in vars(module).items() if k not in MODULE_INTERNALS}
    return {"class": cls.__name__, "settings": _encode(settings), "parameters": list(module._parameters),
            "tensors": [k for k, v in [*module._parameters.items(), *module._buffers.items()] if v is not None]}


def _make_module(spec: dict[str, Any], tensors: dict[str, Tensor]) -> nn.Module:
    cls = getattr(nn, spec["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise NotAProgram(f"{spec['class']} is not a torch.nn module")
    module = cls.__new__(cls)
    nn.Module.__init__(module)
    for key, value in _decode(spec["settings"], {}).items():
        if key in MODULE_INTERNALS or key.startswith("__") or hasattr(cls, key) and callable(getattr(cls, key)):
            raise NotAProgram(f"the setting {key!r} is not allowed")
        object.__setattr__(module, key, value)
    for name in spec["parameters"]:
        module.register_parameter(name, nn.Parameter(tensors[name], requires_grad=False) if name in tensors else None)
    for name in spec["tensors"]:
        if name not in spec["parameters"]:
            module.register_buffer(name, tensors[name])
    return module


def _submodule(root: nn.Module, path: str) -> nn.Module:
    module = root
    for part in filter(None, path.split(".")):
        if part not in module._modules:
            module.add_module(part, nn.Module())
        module = module._modules[part]
    return module


def _encode(value: Any) -> Any:
    """Plain data, with the kinds JSON lacks tagged (one-key dicts): nodes, tuples, slices, dtypes, sets."""
    if isinstance(value, fx.Node):
        return {"node": value.name}
    if isinstance(value, PLAIN):  # JSON writes floats exactly, inf and nan included
        return value
    if isinstance(value, tuple):  # torch.Size too
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"set": [_encode(v) for v in sorted(value, key=repr)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"slice": [_encode(value.start), _encode(value.stop), _encode(value.step)]}
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if value is Ellipsis:
        return {"ellipsis": None}
    raise NotAProgram(f"G's graph holds a {type(value).__name__}, which is no plain data")


def _decode(value: Any, made: dict[str, fx.Node]) -> Any:
    if isinstance(value, list):
        return [_decode(v, made) for v in value]
    if not isinstance(value, dict):
        return value
    (kind, inner), = value.items()
    if kind == "node":
        return made[inner]
    if kind == "tuple":
        return tuple(_decode(v, made) for v in inner)
    if kind == "set":
        return {_decode(v, made) for v in inner}
    if kind == "dict":
        return {k: _decode(v, made) for k, v in inner.items()}
    if kind == "slice":
        return slice(*(_decode(v, made) for v in inner))
    if kind == "ellipsis":
        return Ellipsis
    if kind == "dtype":
        dtype = getattr(torch, inner, None)
        if not isinstance(dtype, torch.dtype):
            raise NotAProgram(f"{inner!r} is not a torch dtype")
        return dtype
    raise NotAProgram(f"unknown value kind {kind!r}")

