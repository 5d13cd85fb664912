"""Write docs/application.md from the application model's schema (the reference of every key).

    python tools/gen_application_doc.py [--check]

--check exits 1 when the page differs from what the schema says (the unit tests run it).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "application.md")

INTRO = """# The application file and the environment's variables

This page is generated from the schema in `plugins/module_utils/_app/definition.py`
(`python tools/gen_application_doc.py`); a unit test fails when the two differ.

An application is written once, in `inventories/app.yml` (or the file `-e app_definition_file=...`
names), and each environment states only what differs in its inventory's `env_*` variables
(`inventories/<env>/group_vars/all.yml`). `env_services.<name>` is merged over `services.<name>`:
mappings key by key, everything else replaced.

`deploy.yml` starts with `shipyard.ecs.app_plan`, which checks all of it before anything is
written: unknown keys (with the nearest known one), wrong types, out-of-range values, references
to services or listeners that do not exist, duplicates, names longer than AWS allows, Fargate CPU
and memory pairs, rules per listener; then, against the account, that every secret and image
exists, that archives can be read, the certificate and hosted zone of `env_domain`, the network
and the account id. Every problem is reported at once with its option path and value, e.g.

    services.users.contianer_port=5000: unknown key; did you mean container_port?

Names in AWS derive from `name` and `env_name`: the load balancer, cluster and topic are
`<name>-<env_name>` (at most 32 characters), target groups `<env_name>-<service>` (at most 32;
`<env_name>-<service>-instance` for `bridge` and `host` services, whose targets are instances: a
service moving between network modes gets the other group, which the load balancer then routes to),
log groups `/ecs/<name>-<env_name>/<service>`, task definition families
`<name>-<env_name>-<service>`, ECR repositories `<name>/<service>`, secret references that are
not ARNs SSM parameters under `/<name>/<env_name>/`.

## Service kinds, placement and containers

Each service has a `kind`, in the words of the AWS console and Copilot:

- `web` (the default): a load-balanced web service. It has a `container_port`, a target group with
  its `health_check`, `routes`, and may be a listener's `default_service`.
- `backend`: no load balancer; other services reach it through service discovery at
  `<discovery name>.<namespace>` (`discovery` is on by default; `discovery: {enabled: false}` turns
  it off). It has a `container_port`; the tasks' security group is opened to the tasks on it.
- `worker`: no port, no load balancer, no discovery.

A kind refuses what it has no use for (routes or a health check on a backend, a port on a worker,
...). Without a web service, `listeners` stays empty and no load balancer is created.

`placement: ec2` runs a service on the environment's EC2 capacity (`env_ec2_capacity`) through its
capacity provider `<name>-<env_name>-ec2`; `network_mode` is then `awsvpc`, `bridge` (dynamic host
ports: the load balancer's target groups are of type `instance` and the instances' security group
is opened to the load balancer on the ephemeral range 32768-65535) or `host` (the container port on
the instance). On Fargate the task needs `cpu` and `memory` (256 and 512 unless given); on EC2 the
containers may be sized instead (`container_cpu`, `container_memory`, `memory_reservation`).

The service's container keys (`image`, `container_port`, `environment`, `secrets`, `command`,
`logging`, `links`, `depends_on`, ...) describe its main container, called `container_name` (the
service's name by default), the one the load balancer targets. `containers` adds further
containers to the task (sidecars, linked containers); a container without `image` runs
`<name>/<service>-<container>` from this account's ECR at `env_image_tag`, pushed from its
`archive` when given.

Environment values may name what the deploy creates: `${load_balancer.dns_name}`,
`${load_balancer.url}` (`http://<dns name>`, or `https://<env_domain>`) and
`${services.<name>.discovery_name}`; they are resolved at deploy time (in check mode on a new
account they show `(known after apply)`). A changed value is a new task definition revision.

## The format

The file format is versioned: `format: 1`. A file without `format` written in the layout before it
(top-level `app_name`, `app_listeners`, `app_services`, `app_smoke_checks`) is read as that layout,
with a warning saying how to migrate it.
"""


def render() -> str:
    sys.path.insert(0, os.path.join(ROOT, ".collections"))
    from ansible_collections.shipyard.ecs.plugins.module_utils._app import definition
    from ansible_collections.shipyard.ecs.plugins.module_utils._app.schema import document

    out = [INTRO]
    for title, node in (("The application file", definition.APPLICATION),
                        ("The environment's variables", definition.ENVIRONMENT)):
        out.append("\n## %s\n\n%s\n\n| key | type | default | allowed | description |\n| --- | --- | --- | --- | --- |" % (
            title, node.doc))
        for path, kind, default, allowed, doc in document(node):
            cells = [("`%s`" % path), kind, default, allowed, doc]
            out.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(out) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        with open(PAGE, encoding="utf-8") as handle:
            if handle.read() != text:
                print("%s is out of date: run python tools/gen_application_doc.py" % PAGE)
                return 1
        return 0
    with open(PAGE, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
