"""Watching the running bot: `/readyz`, `/metrics`, the supervisors' second-route notices,
and `lk3 doctor` before a deployment goes live. Counts, ages and codes only: never a
person's words, name, number or chat id.
"""
