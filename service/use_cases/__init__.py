"""Use cases: one function per user intention, each in ONE database transaction.

A use case resolves the caller (``users`` row for the principal), their membership
of the target family, checks the role rule, calls scoped repositories and appends the
audit entry in the same transaction, so a failure anywhere writes nothing.
"""
