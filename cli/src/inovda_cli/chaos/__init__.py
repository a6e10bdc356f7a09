"""The fault-injection suite (issue 7): nothing lost, nothing doubled, whatever crashes.

It runs its own infrastructure, so that it may kill it freely (never the servers on 5672 and 27017): a
second RabbitMQ node (its own name, ports, data and cookie under var/chaos/), the access model of
deploy/rabbitmq/access.json imported into it (each service and outside system with its own user), a private
FerretDB, and an SMTP server. Two replicas of each service run as real processes.

A load generator publishes a known set of intake messages as the outside systems would (with `user_id`),
wave by wave (`dataset`, `load`). Meanwhile a fault injector kills and stops replicas, the broker, the
database and the SMTP server, several times each within a bounded time (`faults`), and exact copies of
events already handled are redelivered. Then it compares what was sent with what came out (`watcher`,
`checks`), prints a markdown table and writes everything as JSON under var/chaos/ (`report`, `run`). Exit
status 0 when every check holds.

    .venv/bin/python scripts/chaos.py            # the full form (`make chaos`)
    .venv/bin/python scripts/chaos.py --short    # the short form (tests/chaos)
    .venv/bin/python -m inovda_cli.chaos --short # the same, on the checkout in the current directory
"""
