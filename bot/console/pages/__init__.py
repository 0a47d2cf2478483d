"""The console's pages, one module per page family: module-level endpoints and a `routes` list.

queue     cases waiting, most urgent and longest waiting first (live)
case      one case: triage summary, transcript, notes, referral, reply, release, close
case_live the case's conversation over its own event stream
alarm     the emergency alarm's stream, for every page a counsellor has open
bookings  schedules, attendance, weekly hours, office closures
flows     see, edit, check, try, publish and roll back flows
figures   the month's counts for the office and the Dinas Sosial
users     staff, roles, passwords and second factors
referrals the services a case can be referred to (admins)
audit     the audit log, newest first, and its chain verified
"""
