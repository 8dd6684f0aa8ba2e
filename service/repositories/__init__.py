"""Repositories: all SQL of the domain and of the audit trail, tenancy-scoped in the SQL itself.

Every function takes an :class:`~service.db.port.Executor` (a database or an open
transaction). Functions that read or change family data take the caller's
:class:`~service.domain.principal.Principal` and resolve the user, membership and role
*in the same statement* (:mod:`service.repositories.scope`), so a forgotten check in a use
case cannot leak another family's rows or a member's private account, and a read is one
statement. Writes start with a lock statement and record their audit entries in the
statement that makes the change (:mod:`service.repositories.audit`).

The one other SQL of the service is an adapter, not domain data: the local family key
store (:mod:`service.crypto.family_key_store.postgres`), next to its DynamoDB twin.
"""
