# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The one task definition normaliser of the collection (ecs_stack and ecs_rolling_deploy).

Three jobs:

* turn the user-facing snake_case options into ``register_task_definition`` keyword
  arguments (:func:`task_definition_from_options`, :func:`container_from_options`);
* bring a described task definition and a set of register kwargs to one canonical,
  comparable document that knows what AWS fills in on its own (:func:`normalise_task_definition`),
  so that an unchanged definition is recognised and never re-registered;
* render the next revision of a described definition with a few changes
  (:func:`apply_overrides`), for releases.

Normalisation rules (each pinned by a unit test):

* read-only fields of a described definition are dropped (ARN, revision, status,
  requiresAttributes, compatibilities, registeredAt/By, deregisteredAt, deleteRequest...), and
  so are tags, which belong to a revision but not to its content;
* ``None``, empty lists and empty dicts read as "not set";
* task ``cpu``/``memory`` are strings of units, as AWS stores them: ``256``, ``"256"``,
  ``"0.25 vCPU"`` and ``"0.25vcpu"`` are all ``"256"``; ``"0.5 GB"`` is ``"512"``;
* ``networkMode`` missing is ``bridge`` (the Linux default), except on Windows platforms;
* ``requiresCompatibilities``, containers (by name), port mappings, environment and secrets
  (by name), environment files, ulimits, links, dependsOn, mount points, volumes,
  placement constraints and log secret options are order-free and get sorted;
* a container's ``essential`` defaults to true, ``cpu: 0`` is "not set" (AWS reports 0),
  numbers given as strings become numbers, environment values and log options become strings;
* a port mapping's ``protocol`` defaults to ``tcp``; its ``hostPort`` defaults to the
  container port under ``awsvpc``/``host`` and to ``0`` (dynamic) under ``bridge``;
* a health check's ``interval``/``timeout``/``retries`` default to 30/5/3, ``startPeriod`` 0
  is "not set"; a string command is ``["CMD-SHELL", command]``;
* EFS volumes default to ``rootDirectory: "/"``; Docker volumes to ``scope: task``;
* defaults newer AWS responses spell out read as unset: ``enableFaultInjection: false``, a
  container's ``versionConsistency: enabled`` and a disabled ``restartPolicy``.
"""

from __future__ import annotations

import copy
import re
import shlex
from typing import Any, Dict, List, Mapping, Optional, Union

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import canonical, differences, prune
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError

READ_ONLY_FIELDS = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
    "deleteRequestedAt",
    "tags",
)

REGISTER_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "tags",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
)

HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3}

_INT_CONTAINER_FIELDS = ("cpu", "memory", "memoryReservation", "startTimeout", "stopTimeout")
_BOOL_CONTAINER_FIELDS = (
    "essential", "privileged", "readonlyRootFilesystem", "disableNetworking", "interactive", "pseudoTerminal",
)
_UNITS = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


# --------------------------------------------------------------------------------------------
# options -> register kwargs
# --------------------------------------------------------------------------------------------

def _set(out: Dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != [] and value != {}:
        out[key] = value


def _as_list(value: Any) -> Optional[List[Any]]:
    """A command given as one string is split the way a shell would (``shlex``)."""
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return list(value)


def env_value(value: Any) -> str:
    """Environment values are strings in ECS; YAML booleans read as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _name_value_list(values: Any, value_key: str = "value") -> Optional[List[Dict[str, str]]]:
    """``{NAME: v}`` or ``[{name, value}]`` -> ``[{name, <value_key>}]`` sorted by name."""
    if values is None:
        return None
    if isinstance(values, Mapping):
        pairs = list(values.items())
    else:
        pairs = [(p["name"], p.get(value_key, p.get("value", p.get("value_from")))) for p in values]
    return [{"name": str(k), value_key: env_value(v)} for k, v in sorted(pairs, key=lambda kv: str(kv[0]))]


def _port_mapping(opts: Any) -> Dict[str, Any]:
    if isinstance(opts, (int, str)):
        return {"containerPort": int(opts)}
    out: Dict[str, Any] = {}
    _set(out, "containerPort", _int(opts.get("container_port")))
    _set(out, "hostPort", _int(opts.get("host_port")))
    _set(out, "protocol", opts.get("protocol"))
    _set(out, "name", opts.get("name"))
    _set(out, "appProtocol", opts.get("app_protocol"))
    _set(out, "containerPortRange", opts.get("container_port_range"))
    return out


def _log_configuration(opts: Mapping[str, Any], default_region: Optional[str]) -> Optional[Dict[str, Any]]:
    awslogs = opts.get("awslogs")
    if awslogs:
        options: Dict[str, str] = {}
        _set(options, "awslogs-group", awslogs.get("group"))
        _set(options, "awslogs-region", awslogs.get("region") or default_region)
        _set(options, "awslogs-stream-prefix", awslogs.get("stream_prefix"))
        _set(options, "mode", awslogs.get("mode"))
        _set(options, "max-buffer-size", awslogs.get("max_buffer_size"))
        _set(options, "awslogs-datetime-format", awslogs.get("datetime_format"))
        _set(options, "awslogs-multiline-pattern", awslogs.get("multiline_pattern"))
        return {"logDriver": "awslogs", "options": options}
    conf = opts.get("log_configuration")
    if not conf:
        return None
    out: Dict[str, Any] = {"logDriver": conf.get("log_driver") or conf.get("logDriver")}
    _set(out, "options", {str(k): env_value(v) for k, v in (conf.get("options") or {}).items()})
    _set(out, "secretOptions", _name_value_list(conf.get("secret_options") or conf.get("secretOptions"), "valueFrom"))
    return out


def _health_check(opts: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    if not opts:
        return None
    command = opts.get("command")
    if isinstance(command, str):
        command = ["CMD-SHELL", command]
    out: Dict[str, Any] = {"command": list(command or [])}
    _set(out, "interval", _int(opts.get("interval")))
    _set(out, "timeout", _int(opts.get("timeout")))
    _set(out, "retries", _int(opts.get("retries")))
    _set(out, "startPeriod", _int(opts.get("start_period")))
    return out


def container_from_options(opts: Mapping[str, Any], default_region: Optional[str] = None) -> Dict[str, Any]:
    """One container definition (camelCase, as ``register_task_definition`` takes it).

    ``opts`` holds the user-facing snake_case options: ``name``, ``image``, ``cpu``,
    ``memory``, ``memory_reservation``, ``essential``, ``port_mappings`` (``[{container_port,
    host_port, protocol, name, app_protocol}]`` or bare port numbers), ``environment``
    (``{NAME: value}``), ``secrets`` (``{NAME: ARN or parameter name}``), ``awslogs``
    (``{group, region, stream_prefix, mode, max_buffer_size}``; ``region`` falls back to
    ``default_region``) or ``log_configuration`` (``{log_driver, options, secret_options}``),
    ``health_check`` (``{command, interval, timeout, retries, start_period}``; a string
    command runs in a shell), ``command``, ``entry_point``, ``depends_on``
    (``[{container_name, condition}]``), ``links``, ``ulimits`` (``[{name, soft_limit,
    hard_limit}]``), ``working_directory``, ``user``, ``mount_points`` (``[{source_volume,
    container_path, read_only}]``), ``volumes_from``, ``docker_labels``, ``stop_timeout``,
    ``start_timeout``, ``privileged``, ``readonly_root_filesystem``, ``hostname``,
    ``environment_files``.  Unset (``None``) options are left out.
    """
    out: Dict[str, Any] = {}
    _set(out, "name", opts.get("name"))
    _set(out, "image", opts.get("image"))
    _set(out, "cpu", _int(opts.get("cpu")))
    _set(out, "memory", _int(opts.get("memory")))
    _set(out, "memoryReservation", _int(opts.get("memory_reservation")))
    _set(out, "essential", opts.get("essential"))
    _set(out, "portMappings", [_port_mapping(p) for p in opts.get("port_mappings") or []])
    _set(out, "environment", _name_value_list(opts.get("environment")))
    _set(out, "environmentFiles", [{"value": f["value"], "type": f.get("type") or "s3"}
                                   for f in opts.get("environment_files") or []])
    _set(out, "secrets", _name_value_list(opts.get("secrets"), "valueFrom"))
    _set(out, "logConfiguration", _log_configuration(opts, default_region))
    _set(out, "healthCheck", _health_check(opts.get("health_check")))
    _set(out, "command", _as_list(opts.get("command")))
    _set(out, "entryPoint", _as_list(opts.get("entry_point")))
    _set(out, "dependsOn", [{"containerName": d["container_name"], "condition": d.get("condition") or "START"}
                            for d in opts.get("depends_on") or []])
    _set(out, "links", opts.get("links"))
    _set(out, "ulimits", [{"name": u["name"], "softLimit": _int(u["soft_limit"]),
                           "hardLimit": _int(u.get("hard_limit", u["soft_limit"]))}
                          for u in opts.get("ulimits") or []])
    _set(out, "workingDirectory", opts.get("working_directory"))
    _set(out, "user", opts.get("user"))
    _set(out, "hostname", opts.get("hostname"))
    _set(out, "mountPoints", [_prune_none({"sourceVolume": m.get("source_volume"),
                                           "containerPath": m.get("container_path"),
                                           "readOnly": m.get("read_only")})
                              for m in opts.get("mount_points") or []])
    _set(out, "volumesFrom", [_prune_none({"sourceContainer": v.get("source_container"),
                                           "readOnly": v.get("read_only")})
                              for v in opts.get("volumes_from") or []])
    _set(out, "dockerLabels", {str(k): env_value(v) for k, v in (opts.get("docker_labels") or {}).items()})
    _set(out, "stopTimeout", _int(opts.get("stop_timeout")))
    _set(out, "startTimeout", _int(opts.get("start_timeout")))
    _set(out, "privileged", opts.get("privileged"))
    _set(out, "readonlyRootFilesystem", opts.get("readonly_root_filesystem"))
    return out


def _volume(opts: Mapping[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"name": opts["name"]}
    host = opts.get("host") or {}
    if host.get("source_path"):
        out["host"] = {"sourcePath": host["source_path"]}
    efs = opts.get("efs_volume_configuration")
    if efs:
        conf: Dict[str, Any] = {"fileSystemId": efs["file_system_id"]}
        _set(conf, "rootDirectory", efs.get("root_directory"))
        _set(conf, "transitEncryption", efs.get("transit_encryption"))
        _set(conf, "transitEncryptionPort", _int(efs.get("transit_encryption_port")))
        auth = efs.get("authorization_config") or {}
        _set(conf, "authorizationConfig", _prune_none({"accessPointId": auth.get("access_point_id"), "iam": auth.get("iam")}))
        out["efsVolumeConfiguration"] = conf
    docker = opts.get("docker_volume_configuration")
    if docker:
        out["dockerVolumeConfiguration"] = _prune_none({
            "scope": docker.get("scope"),
            "autoprovision": docker.get("autoprovision"),
            "driver": docker.get("driver"),
            "driverOpts": docker.get("driver_opts"),
            "labels": docker.get("labels"),
        })
    return out


def task_definition_from_options(opts: Mapping[str, Any], default_region: Optional[str] = None) -> Dict[str, Any]:
    """``register_task_definition`` kwargs from the user-facing snake_case task options.

    ``opts``: ``family``, ``containers`` (see :func:`container_from_options`),
    ``network_mode``, ``cpu``, ``memory`` (numbers or AWS's unit strings such as ``"0.5 vCPU"``),
    ``execution_role_arn``, ``task_role_arn``, ``requires_compatibilities``,
    ``runtime_platform`` (``{cpu_architecture, operating_system_family}``), ``volumes``
    (``[{name, host: {source_path}, efs_volume_configuration, docker_volume_configuration}]``),
    ``placement_constraints`` (``[{type, expression}]``), ``pid_mode``, ``ipc_mode``,
    ``ephemeral_storage`` (GiB), ``tags`` (dict).
    """
    out: Dict[str, Any] = {}
    _set(out, "family", opts.get("family"))
    _set(out, "containerDefinitions", [container_from_options(c, default_region) for c in opts.get("containers") or []])
    _set(out, "networkMode", opts.get("network_mode"))
    _set(out, "cpu", None if opts.get("cpu") is None else str(opts["cpu"]))
    _set(out, "memory", None if opts.get("memory") is None else str(opts["memory"]))
    _set(out, "executionRoleArn", opts.get("execution_role_arn"))
    _set(out, "taskRoleArn", opts.get("task_role_arn"))
    _set(out, "requiresCompatibilities", opts.get("requires_compatibilities"))
    platform = opts.get("runtime_platform") or {}
    _set(out, "runtimePlatform", _prune_none({"cpuArchitecture": platform.get("cpu_architecture"),
                                              "operatingSystemFamily": platform.get("operating_system_family")}))
    _set(out, "volumes", [_volume(v) for v in opts.get("volumes") or []])
    _set(out, "placementConstraints", [_prune_none({"type": p.get("type") or "memberOf", "expression": p.get("expression")})
                                       for p in opts.get("placement_constraints") or []])
    _set(out, "pidMode", opts.get("pid_mode"))
    _set(out, "ipcMode", opts.get("ipc_mode"))
    if opts.get("ephemeral_storage") is not None:
        out["ephemeralStorage"] = {"sizeInGiB": int(opts["ephemeral_storage"])}
    _set(out, "tags", [{"key": str(k), "value": str(v)} for k, v in sorted((opts.get("tags") or {}).items())])
    return out


# --------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------

def _prune_none(doc: Mapping[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


def _int(value: Any) -> Any:
    """Numbers written as strings (templated values) compare equal to numbers."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and re.match(r"^\s*-?\d+\s*$", value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _bool(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return value


def task_units(value: Any, kind: str) -> Any:
    """Task-level ``cpu`` (``kind='cpu'``) or ``memory`` as AWS stores it: a string of units.

    ``1024``, ``"1024"``, ``"1 vCPU"``, ``"1vcpu"`` -> ``"1024"``; ``"2 GB"``, ``"2GB"`` ->
    ``"2048"``.  Anything else is returned unchanged (validation reports it).
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else value
    match = _UNITS.match(str(value))
    if not match:
        return value
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit == "":
        factor = 1
    elif kind == "cpu" and unit == "vcpu":
        factor = 1024
    elif kind == "memory" and unit in ("gb", "gib"):
        factor = 1024
    elif kind == "memory" and unit in ("mb", "mib"):
        factor = 1
    else:
        return value
    units = number * factor
    return str(int(units)) if units.is_integer() else value


def _by(*keys: str):
    def key(item: Any) -> Any:
        if isinstance(item, dict):
            return tuple(str(item.get(k, "")) for k in keys) + (canonical(item),)
        return ("", canonical(item))
    return key


def _normalise_port_mapping(pm: Mapping[str, Any], network_mode: str) -> Dict[str, Any]:
    out = dict(pm)
    for key in ("containerPort", "hostPort"):
        if key in out:
            out[key] = _int(out[key])
    out["protocol"] = str(out.get("protocol") or "tcp").lower()
    if out.get("containerPort") is not None and out.get("hostPort") is None and not out.get("containerPortRange"):
        out["hostPort"] = out["containerPort"] if network_mode in ("awsvpc", "host") else 0
    return out


def _normalise_health_check(hc: Mapping[str, Any]) -> Dict[str, Any]:
    out = dict(hc)
    command = out.get("command")
    if isinstance(command, str):
        out["command"] = ["CMD-SHELL", command]
    for key, default in HEALTH_CHECK_DEFAULTS.items():
        out[key] = _int(out.get(key)) if out.get(key) is not None else default
    if _int(out.get("startPeriod")) in (None, 0):
        out.pop("startPeriod", None)
    else:
        out["startPeriod"] = _int(out["startPeriod"])
    return out


def _normalise_log_configuration(conf: Mapping[str, Any]) -> Dict[str, Any]:
    out = dict(conf)
    if out.get("options"):
        out["options"] = {str(k): env_value(v) for k, v in out["options"].items()}
    if out.get("secretOptions"):
        out["secretOptions"] = sorted(out["secretOptions"], key=_by("name"))
    return out


def normalise_container(container: Mapping[str, Any], network_mode: str = "bridge") -> Dict[str, Any]:
    """One container definition in canonical form (see the module docstring for the rules)."""
    out: Dict[str, Any] = dict(container)
    for key in _INT_CONTAINER_FIELDS:
        if key in out:
            out[key] = _int(out[key])
    for key in _BOOL_CONTAINER_FIELDS:
        if key in out:
            out[key] = _bool(out[key])
    if out.get("essential") is None:
        out["essential"] = True
    if out.get("cpu") == 0:
        del out["cpu"]
    if out.get("portMappings"):
        out["portMappings"] = sorted((_normalise_port_mapping(p, network_mode) for p in out["portMappings"]),
                                     key=_by("containerPort", "protocol"))
    if out.get("environment"):
        out["environment"] = sorted(({"name": e["name"], "value": env_value(e.get("value", ""))}
                                     for e in out["environment"]), key=_by("name"))
    for key, sort_keys in (("secrets", ("name",)), ("environmentFiles", ("value",)), ("ulimits", ("name",)),
                           ("dependsOn", ("containerName",)), ("mountPoints", ("containerPath",)),
                           ("volumesFrom", ("sourceContainer",)), ("extraHosts", ("hostname",)),
                           ("systemControls", ("namespace",)), ("resourceRequirements", ("type",))):
        if out.get(key):
            out[key] = sorted(out[key], key=_by(*sort_keys))
    if out.get("ulimits"):
        out["ulimits"] = [{**u, "softLimit": _int(u.get("softLimit")), "hardLimit": _int(u.get("hardLimit"))}
                          for u in out["ulimits"]]
    for key in ("links", "dnsServers", "dnsSearchDomains", "dockerSecurityOptions"):
        if out.get(key):
            out[key] = sorted(out[key])
    if out.get("mountPoints"):
        out["mountPoints"] = [{**m, "readOnly": bool(_bool(m.get("readOnly", False)))} for m in out["mountPoints"]]
    if out.get("volumesFrom"):
        out["volumesFrom"] = [{**v, "readOnly": bool(_bool(v.get("readOnly", False)))} for v in out["volumesFrom"]]
    if out.get("dockerLabels"):
        out["dockerLabels"] = {str(k): env_value(v) for k, v in out["dockerLabels"].items()}
    if out.get("logConfiguration"):
        out["logConfiguration"] = _normalise_log_configuration(out["logConfiguration"])
    if out.get("healthCheck"):
        out["healthCheck"] = _normalise_health_check(out["healthCheck"])
    for key in ("command", "entryPoint"):
        if isinstance(out.get(key), str):
            out[key] = shlex.split(out[key])
    # Newer AWS responses spell out these defaults; older ones and register kwargs leave them out.
    if str(out.get("versionConsistency", "")).lower() == "enabled":
        del out["versionConsistency"]
    if isinstance(out.get("restartPolicy"), Mapping) and not _bool(out["restartPolicy"].get("enabled", False)):
        del out["restartPolicy"]
    return out


def _normalise_volume(volume: Mapping[str, Any]) -> Dict[str, Any]:
    out = dict(volume)
    efs = out.get("efsVolumeConfiguration")
    if efs:
        efs = dict(efs)
        efs.setdefault("rootDirectory", "/")
        if efs.get("rootDirectory") in (None, ""):
            efs["rootDirectory"] = "/"
        out["efsVolumeConfiguration"] = efs
    docker = out.get("dockerVolumeConfiguration")
    if docker:
        docker = dict(docker)
        if not docker.get("scope"):
            docker["scope"] = "task"
        out["dockerVolumeConfiguration"] = docker
    return out


def normalise_task_definition(doc: Mapping[str, Any]) -> Dict[str, Any]:
    """A canonical, comparable task definition.

    ``doc`` is a described definition (``describe_task_definition()['taskDefinition']``, or the
    whole response) or ``register_task_definition`` kwargs.  Two documents that AWS would store
    the same way normalise to equal dicts.
    """
    if "taskDefinition" in doc and isinstance(doc["taskDefinition"], Mapping):
        doc = doc["taskDefinition"]
    out: Dict[str, Any] = {k: copy.deepcopy(v) for k, v in doc.items() if k not in READ_ONLY_FIELDS}
    out = prune(out)
    platform = out.get("runtimePlatform") or {}
    windows = str(platform.get("operatingSystemFamily", "")).upper().startswith("WINDOWS")
    if not out.get("networkMode") and not windows:
        out["networkMode"] = "bridge"
    network_mode = out.get("networkMode", "bridge")
    for key in ("cpu", "memory"):
        if key in out:
            out[key] = task_units(out[key], key)
    if out.get("requiresCompatibilities"):
        out["requiresCompatibilities"] = sorted(str(c).upper() for c in out["requiresCompatibilities"])
    if out.get("containerDefinitions"):
        out["containerDefinitions"] = sorted((normalise_container(c, network_mode) for c in out["containerDefinitions"]),
                                             key=_by("name"))
    if out.get("volumes"):
        out["volumes"] = sorted((_normalise_volume(v) for v in out["volumes"]), key=_by("name"))
    if out.get("placementConstraints"):
        out["placementConstraints"] = sorted(out["placementConstraints"], key=_by("type", "expression"))
    if _bool(out.get("enableFaultInjection")) is False:
        del out["enableFaultInjection"]
    if out.get("ephemeralStorage"):
        out["ephemeralStorage"] = {**out["ephemeralStorage"], "sizeInGiB": _int(out["ephemeralStorage"].get("sizeInGiB"))}
    return prune(out)


def task_definition_differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """``[{path, before, after}]`` between two definitions after normalisation (empty if equal)."""
    return differences(normalise_task_definition(current), normalise_task_definition(desired))


def task_definitions_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when AWS would store ``a`` and ``b`` as the same definition (tags aside)."""
    return normalise_task_definition(a) == normalise_task_definition(b)


# --------------------------------------------------------------------------------------------
# rendering a new revision
# --------------------------------------------------------------------------------------------

def to_register_kwargs(described: Mapping[str, Any]) -> Dict[str, Any]:
    """The ``register_task_definition`` kwargs that reproduce a described definition."""
    if "taskDefinition" in described and isinstance(described["taskDefinition"], Mapping):
        tags = described.get("tags")
        described = dict(described["taskDefinition"], tags=tags)
    out = {k: copy.deepcopy(v) for k, v in described.items() if k in REGISTER_FIELDS}
    return prune(out)


def _merge_pairs(pairs: Optional[List[Dict[str, Any]]], changes: Mapping[str, Any], value_key: str) -> List[Dict[str, Any]]:
    """Set (or, with ``None``, remove) names in a ``[{name, <value_key>}]`` list."""
    merged = {p["name"]: p.get(value_key) for p in pairs or []}
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[str(name)] = env_value(value)
    return [{"name": k, value_key: v} for k, v in sorted(merged.items())]


def _per_container(option: str, value: Any, names: List[str]) -> Dict[str, Any]:
    """Validate that a per-container mapping names only containers of the definition."""
    if not isinstance(value, Mapping):
        raise ValidationError(option, value, "must be a mapping of container name to its change")
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise ValidationError(option, value, "no container named %s in the task definition (containers: %s)"
                              % (", ".join(unknown), ", ".join(names)))
    return dict(value)


def apply_overrides(
    current_described: Mapping[str, Any],
    images: Optional[Union[str, Mapping[str, str]]] = None,
    environment: Optional[Mapping[str, Mapping[str, Any]]] = None,
    secrets: Optional[Mapping[str, Mapping[str, Any]]] = None,
    container_definitions: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> Dict[str, Any]:
    """``register_task_definition`` kwargs for the next revision: the current one plus changes.

    * ``images``: ``{container_name: image}``; a plain string is accepted when the definition
      has exactly one container.
    * ``environment`` / ``secrets``: ``{container_name: {NAME: value}}``, merged into the
      container's variables; a ``None`` value removes the variable.  Secret values are the
      ``valueFrom`` (ARN or parameter name).
    * ``container_definitions``: ``{container_name: {camelCaseKey: value}}``, shallow-merged
      into the container definition (a ``None`` value removes the key).

    Raises ``ValidationError`` naming the option when a container name is unknown.  Compare the
    result with the current definition (:func:`task_definitions_equal`) before registering.
    """
    kwargs = to_register_kwargs(current_described)
    containers = kwargs.get("containerDefinitions") or []
    names = [c["name"] for c in containers]
    if isinstance(images, str):
        if len(names) != 1:
            raise ValidationError("images", images, "a single image needs a single-container definition "
                                  "(containers: %s); map container names to images" % ", ".join(names))
        images = {names[0]: images}
    images = _per_container("images", images, names) if images is not None else {}
    environment = _per_container("environment", environment, names) if environment is not None else {}
    secrets = _per_container("secrets", secrets, names) if secrets is not None else {}
    overrides = _per_container("container_definitions", container_definitions, names) if container_definitions else {}
    for container in containers:
        name = container["name"]
        if name in images:
            container["image"] = images[name]
        if environment.get(name):
            container["environment"] = _merge_pairs(container.get("environment"), environment[name], "value")
        if secrets.get(name):
            container["secrets"] = _merge_pairs(container.get("secrets"), secrets[name], "valueFrom")
        for key, value in (overrides.get(name) or {}).items():
            if value is None:
                container.pop(key, None)
            else:
                container[key] = copy.deepcopy(value)
    return prune(kwargs)


def container_names(doc: Mapping[str, Any]) -> List[str]:
    """Names of the containers of a definition (described or register kwargs)."""
    if "taskDefinition" in doc and isinstance(doc["taskDefinition"], Mapping):
        doc = doc["taskDefinition"]
    return [c.get("name") for c in doc.get("containerDefinitions") or []]


# --------------------------------------------------------------------------------------------
# a readable form, for --diff and the fields a release changes
# --------------------------------------------------------------------------------------------

# Keys whose values are maps of the user's own names (variables, labels, driver options): their
# keys are shown as written, never snake_cased.
_USER_KEYED = ("environment", "secrets", "docker_labels", "options", "secret_options", "driver_opts", "labels")
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


_SNAKE_EXCEPTIONS = {"sizeInGiB": "size_in_gib"}


def _snake(key: str) -> str:
    return _SNAKE_EXCEPTIONS.get(key) or _CAMEL.sub(r"_\1", key).lower()


def _readable(value: Any, user_keyed: bool = False) -> Any:
    if isinstance(value, Mapping):
        if user_keyed:
            return {str(k): _readable(v) for k, v in value.items()}
        return {_snake(str(k)): _readable(v, _snake(str(k)) in _USER_KEYED) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


def readable_task_definition(doc: Mapping[str, Any]) -> Dict[str, Any]:
    """A normalised definition in the words of the task definition options, for ``--diff``.

    Containers are keyed by name, environment variables and secrets are ``{NAME: value}`` and
    ``{NAME: valueFrom}`` (secrets are references, never values), field names are snake_case
    (``memory_reservation``, ``health_check``), so a difference reads
    ``containers.users.environment.APP_SETTINGS``.
    """
    normal = normalise_task_definition(doc)
    containers = {}
    for container in normal.pop("containerDefinitions", []):
        container = dict(container)
        name = container.pop("name", "")
        if container.get("environment"):
            container["environment"] = {e["name"]: e.get("value") for e in container["environment"]}
        if container.get("secrets"):
            container["secrets"] = {s["name"]: s.get("valueFrom") for s in container["secrets"]}
        log = container.get("logConfiguration")
        if log and log.get("secretOptions"):
            container["logConfiguration"] = dict(log, secretOptions={s["name"]: s.get("valueFrom")
                                                                     for s in log["secretOptions"]})
        containers[name] = container
    out = _readable(normal)
    if "ephemeral_storage" in out:
        # The option is the size in GiB, not AWS's wrapper around it.
        out["ephemeral_storage"] = out["ephemeral_storage"].get("size_in_gib")
    if containers:
        out["containers"] = {name: _readable(c) for name, c in containers.items()}
    return out


def task_definition_changes(current: Mapping[str, Any], desired: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """``[{path, before, after}]`` between two definitions in their readable form (empty if AWS would
    store them the same way); paths such as ``containers.users.environment.APP_SETTINGS`` or ``cpu``.

    A list of plain values (a command, an entry point, links) is one value: a changed argument
    shows the whole command before and after, not ``command[2]``.
    """
    out: List[Dict[str, Any]] = []
    _changes(readable_task_definition(current), readable_task_definition(desired), "", out)
    return out


def _changes(before: Any, after: Any, path: str, out: List[Dict[str, Any]]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after), key=str):
            _changes(before.get(key), after.get(key), "%s.%s" % (path, key) if path else str(key), out)
        return
    records = isinstance(before, list) and isinstance(after, list) and len(before) == len(after)
    if records and all(isinstance(v, Mapping) for v in before + after):
        for index, (b, a) in enumerate(zip(before, after)):
            _changes(b, a, "%s[%d]" % (path, index), out)
        return
    if before != after:
        out.append({"path": path, "before": before, "after": after})
