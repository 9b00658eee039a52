"""E-mail notifications: messages queued as rows in the transaction that causes them, sent
once each after it commits (SMTP, or the outbox folder when no server is set), retried with
backoff and recorded."""
