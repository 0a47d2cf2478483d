"""Who is at the keyboard: login with password and TOTP, sessions, CSRF, the auth pages.

    login      `Authenticator`: passwords, second factors, throttling, sessions, roles
    pages      login, the second factor, TOTP enrolment, logout, language, static files
    passwords  scrypt hashes that describe their own cost
    csrf       tokens bound to the session (or a pre-session cookie)
"""
