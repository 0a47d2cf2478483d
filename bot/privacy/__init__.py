"""A person's rights and the service's own forgetting: consent, export, erasure, retention.

    worker     carries out in the background what a right asked for in a turn
    export     "my data": what the service holds about a person, sent to them readably
    retention  erases (crypto-shredding) whatever the configured periods say is due
    cli        `lk3` privacy commands: backups, purges, the audit log, case flags, key rotation
"""
