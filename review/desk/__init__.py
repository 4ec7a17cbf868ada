"""The reviewer's desk: what a lead reviewer does with pulled, verified statements.

Everything here reads what ``review pull`` wrote (statements verified against the signed ledger
before they were decrypted) and works on the reviewer's machine only: Word statements with
citable references, an index, a side-by-side grid, a REFI-QDA project, a draft chronology,
quotes that respect consent, and a disclosure bundle.
"""
