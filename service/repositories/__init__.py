"""Repositories: all SQL of the domain, tenancy-scoped in the SQL itself.

Every function takes an :class:`~service.db.port.Executor` (a database or an open
transaction). Functions that read or change family data take the caller's
:class:`~service.domain.models.Membership` (or user id, for lookups by a global id)
and re-check it *in the same statement* by joining ``memberships`` and the
visibility rules (:mod:`service.repositories.scope`), so a forgotten check in a use
case cannot leak another family's rows or a member's private account.
"""
