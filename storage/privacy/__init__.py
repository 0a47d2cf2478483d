"""Consent, a person's rights, erasure, retention and the hash-chained audit log.

`repo` (`PrivacyRepo`) answers the privacy commands and retention; `erasure`
destroys a contact's data; `consents` records what was agreed; `audit` appends
to and verifies the audit log every transcript reading, export and role change goes to.
"""
