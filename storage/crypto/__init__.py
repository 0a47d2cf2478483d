"""Confidentiality at rest: AES-GCM sealing, master keys, the key tree, rotation, backups.

`aead` seals a value bound to its table, column and row; `keys` reads the master
keys; `keytree` holds the per-contact leaves whose destruction makes an erasure
final; `vault` wraps and unwraps data keys and computes blind indexes; `rotation`
re-wraps under a new master key online; `backup` copies a database without its key tree.
"""
