"""Fidelity layer of the local emulated AWS (dev tooling; left out of the built collection).

``install(app)`` is called by ``server.load_extensions`` inside the emulator process.  It adds:

* the control API routes ``behaviours``, ``time`` and ``faults`` (see tests/emulator/README.md);
* fault injection as a before-hook (answers in the AWS protocol's own error shape);
* ECR's registry (Docker Registry HTTP API v2 under ``/v2/``) backed by moto's ECR (``registry``);
* patches to moto's ECS, ELBv2, ECR, EC2 models where moto differs from AWS's documented
  behaviour (``fixes``), and a simulation of ECS deployments, tasks and target health that
  advances on a virtual clock (``ecs_sim``), driven by a ticker thread and before each request.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from typing import Any, Callable, Dict, Tuple

from .behaviours import Behaviours
from .clock import VirtualClock, default_scale
from .faults import Faults

TICK_SECONDS = 0.05
PLAIN_ENV = "SHIPYARD_LOCAL_AWS_PLAIN"


class State:
    """Everything the control API changes; one per emulator process."""

    def __init__(self) -> None:
        self.default_scale = default_scale()
        self.clock = VirtualClock(self.default_scale)
        self.behaviours = Behaviours()
        self.faults = Faults()
        # One lock serialises moto requests and simulation steps, so a describe never sees a
        # half-applied tick.
        self.lock = threading.RLock()
        self.sim: Any = None

    def reset(self) -> None:
        self.clock.reset(self.default_scale)
        self.behaviours.reset()
        self.faults.reset()
        if self.sim is not None:
            self.sim.reset()


STATE: Dict[str, State] = {}


def install(app: Any) -> None:
    """Install the control routes, hooks, moto patches and the ticker on ``app``."""
    state = State()
    STATE["current"] = state
    server = sys.modules[type(app).__module__]
    _register_routes(server.control, state)

    app.before_hooks.insert(0, state.faults.hook)
    app.reset_hooks.append(state.reset)
    if os.environ.get(PLAIN_ENV) == "1":
        # moto as it is, plus the control API: shows which fidelity tests fail on plain moto.
        return

    from . import cloud_map, ec2_capacity, ecs_patches, ecs_sim, fixes

    fixes.install()
    ec2_capacity.install()
    cloud_map.install()
    state.sim = ecs_sim.Simulation(state.clock, state.behaviours)
    ecs_patches.install(state.sim)

    app.before_hooks.append(_advance_hook(state))
    from .service_deployments import ServiceDeploymentsApi

    app.before_hooks.append(ServiceDeploymentsApi(state.sim, state.lock).hook)
    from . import registry

    registry.install(app, server, state.lock, state.faults)
    from . import alb_data_plane

    alb_data_plane.install(app, state)
    app.moto_app = _locked(app.moto_app, state.lock)
    threading.Thread(target=_tick_forever, args=(state,), name="shipyard-ticker", daemon=True).start()


def _locked(moto_app: Callable, lock: Any) -> Callable:
    def call(environ: Dict[str, Any], start_response: Callable) -> Any:
        with lock:
            # moto builds the whole body before returning; materialise it under the lock.
            return list(moto_app(environ, start_response))

    return call


def _advance_hook(state: State) -> Callable:
    def hook(_service: str, _operation: str, _environ: Dict[str, Any], _body: bytes) -> None:
        if state.sim is not None:
            _safe_advance(state)
        return None

    return hook


def _tick_forever(state: State) -> None:
    stop = threading.Event()
    while not stop.wait(TICK_SECONDS):
        _safe_advance(state)


_LAST_ERROR = {"text": ""}


def _safe_advance(state: State) -> None:
    try:
        with state.lock:
            state.sim.advance()
    except Exception:  # a bad step must not take the API down; server.log says what broke
        text = traceback.format_exc()
        if text != _LAST_ERROR["text"]:  # once per distinct failure, not 20 times a second
            _LAST_ERROR["text"] = text
            sys.stderr.write(text)
            sys.stderr.flush()


def _register_routes(control: Callable, state: State) -> None:
    def ok(body: Any = None) -> Tuple[int, Any]:
        return 200, body if body is not None else {"status": "ok"}

    @control("GET", "behaviours")
    def _list_behaviours(_app: Any, _payload: Dict[str, Any]) -> Tuple[int, Any]:
        return ok({"behaviours": state.behaviours.snapshot()})

    @control("POST", "behaviours")
    def _set_behaviour(_app: Any, payload: Dict[str, Any]) -> Tuple[int, Any]:
        behaviour = state.behaviours.set(payload["image"], payload.get("behaviour", {"kind": "healthy"}))
        return ok({"image": payload["image"], "behaviour": behaviour})

    @control("POST", "behaviours/reset")
    def _reset_behaviours(_app: Any, _payload: Dict[str, Any]) -> Tuple[int, Any]:
        state.behaviours.reset()
        return ok()

    @control("GET", "time")
    def _get_time(_app: Any, _payload: Dict[str, Any]) -> Tuple[int, Any]:
        return ok({"scale": state.clock.scale, "now": state.clock.now(), "default_scale": state.default_scale})

    @control("POST", "time")
    def _set_time(_app: Any, payload: Dict[str, Any]) -> Tuple[int, Any]:
        unknown = sorted(set(payload) - {"scale", "advance_seconds"})
        if unknown:
            raise ValueError("unknown field(s): %s" % ", ".join(unknown))
        if "scale" in payload:
            scale = payload["scale"]
            if isinstance(scale, bool) or not isinstance(scale, (int, float)):
                raise ValueError("scale must be a number >= 0, got %r" % (scale,))
            state.clock.set_scale(float(scale))
        if "advance_seconds" in payload:
            seconds = payload["advance_seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise ValueError("advance_seconds must be a number >= 0, got %r" % (seconds,))
            # Settle what is due now (e.g. tasks a service update asks for) before time jumps.
            with state.lock:
                if state.sim is not None:
                    state.sim.advance()
                state.clock.advance(float(seconds))
                if state.sim is not None:
                    state.sim.advance()
        return ok({"scale": state.clock.scale, "now": state.clock.now(), "default_scale": state.default_scale})

    @control("GET", "faults")
    def _list_faults(_app: Any, _payload: Dict[str, Any]) -> Tuple[int, Any]:
        return ok({"faults": state.faults.snapshot()})

    @control("POST", "faults")
    def _add_fault(_app: Any, payload: Dict[str, Any]) -> Tuple[int, Any]:
        unknown = sorted(set(payload) - {"service", "operation", "throttle_rate", "error_rate", "latency_ms", "seed"})
        if unknown:
            raise ValueError("unknown field(s): %s" % ", ".join(unknown))
        return ok({"fault": state.faults.add(payload)})

    @control("POST", "faults/reset")
    def _reset_faults(_app: Any, _payload: Dict[str, Any]) -> Tuple[int, Any]:
        state.faults.reset()
        return ok()
