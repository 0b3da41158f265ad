"""Domain rules with no request in sight: sign-up, passwords, codes, MFA, lockout, recovery."""
