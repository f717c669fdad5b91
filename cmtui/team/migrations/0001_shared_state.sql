-- The team's shared state. Every table that teammates follow has a `seq`: a number from one
-- sequence, given under a per-table transaction lock, so numbers appear in commit order and a
-- reader that asks for `seq > last` never skips a row committed late. Any change announces the
-- table's name on the `cmtui` NOTIFY channel; readers then ask for what is new.

CREATE SEQUENCE change_seq;

CREATE FUNCTION next_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('cmtui.' || TG_TABLE_NAME));
    NEW.seq := nextval('change_seq');
    RETURN NEW;
END $$;

CREATE FUNCTION announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cmtui', TG_TABLE_NAME);
    RETURN NULL;
END $$;

-- Who is in the team, and who may approve (`cmtui team init` writes them from the config).
CREATE TABLE members (
    name text PRIMARY KEY,
    role text NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'senior')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- What the sync worker fetched for everyone: `Message.to_dict()` as it was last seen.
CREATE TABLE messages (
    id text PRIMARY KEY,
    seq bigint NOT NULL,
    conversation_id text NOT NULL,
    account_id text NOT NULL,
    created_at timestamptz NOT NULL,
    body jsonb NOT NULL
);
CREATE UNIQUE INDEX messages_seq ON messages (seq);
CREATE INDEX messages_conversation ON messages (conversation_id);
CREATE INDEX messages_created ON messages (created_at);

-- Every triage change (`TriageRecord`), kept forever: the history, and what each screen
-- replays. A record carried twice (a replay after a partition) is stored once.
CREATE TABLE triage (
    id text PRIMARY KEY,
    seq bigint NOT NULL,
    conversation_id text NOT NULL,
    action text NOT NULL,
    value text,
    who text NOT NULL,
    at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX triage_seq ON triage (seq);
CREATE INDEX triage_conversation ON triage (conversation_id, at);

-- The outbox (`OutboxItem.to_dict()` in body), with the lease of the worker delivering it.
CREATE TABLE outbox (
    id text PRIMARY KEY,
    seq bigint NOT NULL,
    conversation_id text NOT NULL,
    account_id text NOT NULL,
    state text NOT NULL,
    not_before timestamptz,
    body jsonb NOT NULL,
    created_by text NOT NULL,
    lease_owner text,
    lease_until timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX outbox_seq ON outbox (seq);
CREATE INDEX outbox_due ON outbox (state, not_before);
CREATE INDEX outbox_conversation ON outbox (conversation_id);

-- Replies that wait for a senior before they enter the outbox.
CREATE TABLE approvals (
    id text PRIMARY KEY,
    seq bigint NOT NULL,
    conversation_id text NOT NULL,
    brand text NOT NULL,
    requested_by text NOT NULL,
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn')),
    body jsonb NOT NULL,
    note text,
    decided_by text,
    decided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX approvals_seq ON approvals (seq);
CREATE INDEX approvals_pending ON approvals (state, created_at);

-- Drafts a member chose to share with the team.
CREATE TABLE drafts (
    conversation_id text NOT NULL,
    member text NOT NULL,
    seq bigint NOT NULL,
    text text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, member)
);
CREATE UNIQUE INDEX drafts_seq ON drafts (seq);

-- Who is doing what where ("Léa is replying"), until when.
CREATE TABLE presence (
    member text PRIMARY KEY,
    seq bigint NOT NULL,
    conversation_id text,
    activity text,
    until timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX presence_seq ON presence (seq);

-- Sync workers and when each was last alive (doctor, and the screens' status bar).
CREATE TABLE workers (
    name text PRIMARY KEY,
    seq bigint NOT NULL,
    host text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX workers_seq ON workers (seq);

DO $$
DECLARE
    followed text;
BEGIN
    FOREACH followed IN ARRAY ARRAY['messages', 'triage', 'outbox', 'approvals', 'drafts',
                                    'presence', 'workers']
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION next_change()', followed || '_seq', followed);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION announce_change()',
                       followed || '_announce', followed);
    END LOOP;
END $$;
