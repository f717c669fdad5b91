"""Team mode: several community managers share one inbox on PostgreSQL.

The local TinyDB cache stays each screen's read-through copy (it opens instantly and reads
offline); what the team shares lives in PostgreSQL: the messages one `cmtui sync --team`
worker fetches for everyone, the triage history, the outbox and its delivery leases, the
approvals, drafts shared on purpose, and who is writing where. Every change is announced on
one LISTEN/NOTIFY channel, so each teammate's screen follows within a second.

Only this package imports psycopg (the optional `team` extra), and only when team mode is on.
"""
