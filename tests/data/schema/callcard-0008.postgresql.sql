--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;


--
-- Name: EXTENSION pg_trgm; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: alembic_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);


--
-- Name: attachments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachments (
    id integer NOT NULL,
    client_id integer,
    owner_type character varying(20) NOT NULL,
    owner_id integer NOT NULL,
    filename character varying(255) NOT NULL,
    content_type character varying(120) NOT NULL,
    size integer NOT NULL,
    sha256 character varying(64) NOT NULL,
    storage_key character varying(255) NOT NULL,
    uploaded_by_id integer,
    uploaded_at timestamp with time zone NOT NULL
);


--
-- Name: attachments_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.attachments_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: attachments_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.attachments_id_seq OWNED BY public.attachments.id;


--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    id integer NOT NULL,
    at timestamp with time zone NOT NULL,
    actor_id integer,
    action character varying(20) NOT NULL,
    entity character varying(40) NOT NULL,
    entity_id character varying(64) NOT NULL,
    changes json NOT NULL
);


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_log_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;


--
-- Name: auth_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_sessions (
    id integer NOT NULL,
    token_hash character varying(64) NOT NULL,
    kind character varying(10) NOT NULL,
    user_id integer,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    label character varying(120) NOT NULL
);


--
-- Name: auth_sessions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.auth_sessions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: auth_sessions_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.auth_sessions_id_seq OWNED BY public.auth_sessions.id;


--
-- Name: call_legs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.call_legs (
    id integer NOT NULL,
    call_id integer NOT NULL,
    extension character varying(32) NOT NULL,
    user_id integer,
    answered boolean NOT NULL
);


--
-- Name: call_legs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.call_legs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: call_legs_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.call_legs_id_seq OWNED BY public.call_legs.id;


--
-- Name: call_notes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.call_notes (
    id integer NOT NULL,
    linkedid character varying(64) NOT NULL,
    author_id integer,
    body text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: call_notes_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.call_notes_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: call_notes_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.call_notes_id_seq OWNED BY public.call_notes.id;


--
-- Name: calls; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.calls (
    id integer NOT NULL,
    linkedid character varying(64) NOT NULL,
    direction character varying(10) NOT NULL,
    number character varying(64) NOT NULL,
    e164 character varying(20),
    withheld boolean NOT NULL,
    caller_name character varying(120) NOT NULL,
    did character varying(64) NOT NULL,
    queue character varying(80) NOT NULL,
    rang json NOT NULL,
    answered_extension character varying(32),
    answered_user_id integer,
    team_id integer,
    started_at timestamp with time zone NOT NULL,
    answered_at timestamp with time zone,
    ended_at timestamp with time zone NOT NULL,
    wait_s double precision NOT NULL,
    ring_s double precision NOT NULL,
    talk_s double precision NOT NULL,
    transfers json NOT NULL,
    disposition character varying(12) NOT NULL,
    recording character varying(255) NOT NULL,
    client_id integer,
    interaction_id integer,
    callback_task_id integer,
    note text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: calls_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.calls_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: calls_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.calls_id_seq OWNED BY public.calls.id;


--
-- Name: choice_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.choice_items (
    id integer NOT NULL,
    list_name character varying(40) NOT NULL,
    code character varying(40) NOT NULL,
    label character varying(120) NOT NULL,
    "position" integer NOT NULL,
    active boolean NOT NULL
);


--
-- Name: choice_items_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.choice_items_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: choice_items_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.choice_items_id_seq OWNED BY public.choice_items.id;


--
-- Name: client_addresses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.client_addresses (
    id integer NOT NULL,
    client_id integer NOT NULL,
    kind character varying(12) NOT NULL,
    street character varying(250) NOT NULL,
    city character varying(120) NOT NULL,
    region character varying(120) NOT NULL,
    postal_code character varying(20) NOT NULL,
    country character varying(2) NOT NULL,
    "position" integer NOT NULL
);


--
-- Name: client_addresses_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.client_addresses_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: client_addresses_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.client_addresses_id_seq OWNED BY public.client_addresses.id;


--
-- Name: client_emails; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.client_emails (
    id integer NOT NULL,
    client_id integer NOT NULL,
    kind character varying(12) NOT NULL,
    address character varying(254) NOT NULL,
    address_lower character varying(254) NOT NULL,
    "position" integer NOT NULL
);


--
-- Name: client_emails_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.client_emails_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: client_emails_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.client_emails_id_seq OWNED BY public.client_emails.id;


--
-- Name: client_handles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.client_handles (
    id integer NOT NULL,
    client_id integer NOT NULL,
    network character varying(40) NOT NULL,
    handle character varying(200) NOT NULL
);


--
-- Name: client_handles_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.client_handles_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: client_handles_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.client_handles_id_seq OWNED BY public.client_handles.id;


--
-- Name: client_phones; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.client_phones (
    id integer NOT NULL,
    client_id integer NOT NULL,
    kind character varying(12) NOT NULL,
    number character varying(64) NOT NULL,
    e164 character varying(20) NOT NULL,
    "position" integer NOT NULL
);


--
-- Name: client_phones_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.client_phones_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: client_phones_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.client_phones_id_seq OWNED BY public.client_phones.id;


--
-- Name: client_tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.client_tags (
    client_id integer NOT NULL,
    tag character varying(60) NOT NULL
);


--
-- Name: clients; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.clients (
    id integer NOT NULL,
    kind character varying(12) NOT NULL,
    first_name character varying(120) NOT NULL,
    last_name character varying(120) NOT NULL,
    middle_name character varying(120) NOT NULL,
    org_name character varying(250) NOT NULL,
    display_name character varying(300) NOT NULL,
    job_title character varying(120) NOT NULL,
    organization_id integer,
    owner_id integer,
    team_id integer,
    category character varying(40) NOT NULL,
    status character varying(20) NOT NULL,
    source character varying(80) NOT NULL,
    birthday date,
    discount_percent numeric(5,2) NOT NULL,
    comment text NOT NULL,
    language character varying(8) NOT NULL,
    timezone character varying(64) NOT NULL,
    last_rating integer,
    last_rated_at timestamp with time zone,
    search_text text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    created_by_id integer,
    deleted_at timestamp with time zone
);


--
-- Name: clients_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.clients_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: clients_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.clients_id_seq OWNED BY public.clients.id;


--
-- Name: custom_field_values; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.custom_field_values (
    id integer NOT NULL,
    field_id integer NOT NULL,
    entity_id integer NOT NULL,
    value_text text,
    value_number numeric(18,4),
    value_date date,
    value_bool boolean
);


--
-- Name: custom_field_values_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.custom_field_values_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: custom_field_values_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.custom_field_values_id_seq OWNED BY public.custom_field_values.id;


--
-- Name: custom_fields; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.custom_fields (
    id integer NOT NULL,
    entity character varying(20) NOT NULL,
    key character varying(60) NOT NULL,
    label character varying(120) NOT NULL,
    kind character varying(10) NOT NULL,
    choices json NOT NULL,
    required boolean NOT NULL,
    searchable boolean NOT NULL,
    "position" integer NOT NULL
);


--
-- Name: custom_fields_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.custom_fields_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: custom_fields_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.custom_fields_id_seq OWNED BY public.custom_fields.id;


--
-- Name: field_labels; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.field_labels (
    id integer NOT NULL,
    entity character varying(20) NOT NULL,
    field character varying(60) NOT NULL,
    language character varying(8) NOT NULL,
    label character varying(120) NOT NULL
);


--
-- Name: field_labels_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.field_labels_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: field_labels_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.field_labels_id_seq OWNED BY public.field_labels.id;


--
-- Name: inbound_sms; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.inbound_sms (
    id integer NOT NULL,
    provider_id character varying(64) NOT NULL,
    from_number character varying(40) NOT NULL,
    from_e164 character varying(20) NOT NULL,
    to_number character varying(40) NOT NULL,
    body text NOT NULL,
    received_at timestamp with time zone NOT NULL,
    client_id integer,
    outcome character varying(20) NOT NULL,
    survey_id integer,
    interaction_id integer
);


--
-- Name: inbound_sms_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.inbound_sms_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: inbound_sms_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.inbound_sms_id_seq OWNED BY public.inbound_sms.id;


--
-- Name: interactions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.interactions (
    id integer NOT NULL,
    client_id integer,
    kind character varying(20) NOT NULL,
    direction character varying(10) NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    author_id integer,
    type_code character varying(40) NOT NULL,
    result_code character varying(40) NOT NULL,
    subject character varying(250) NOT NULL,
    body text NOT NULL,
    duration_s integer,
    phone_number character varying(32) NOT NULL,
    call_id character varying(64),
    created_at timestamp with time zone NOT NULL
);


--
-- Name: interactions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.interactions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: interactions_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.interactions_id_seq OWNED BY public.interactions.id;


--
-- Name: login_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.login_attempts (
    id integer NOT NULL,
    username character varying(80) NOT NULL,
    address character varying(64) NOT NULL,
    at timestamp with time zone NOT NULL
);


--
-- Name: login_attempts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.login_attempts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: login_attempts_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.login_attempts_id_seq OWNED BY public.login_attempts.id;


--
-- Name: message_templates; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.message_templates (
    id integer NOT NULL,
    key character varying(80) NOT NULL,
    language character varying(8) NOT NULL,
    subject character varying(250) NOT NULL,
    body text NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    updated_by_id integer
);


--
-- Name: message_templates_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.message_templates_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: message_templates_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.message_templates_id_seq OWNED BY public.message_templates.id;


--
-- Name: newsletter_unsubscribes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.newsletter_unsubscribes (
    id integer NOT NULL,
    email_lower character varying(254) NOT NULL,
    client_id integer,
    newsletter_id integer,
    at timestamp with time zone NOT NULL
);


--
-- Name: newsletter_unsubscribes_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.newsletter_unsubscribes_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: newsletter_unsubscribes_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.newsletter_unsubscribes_id_seq OWNED BY public.newsletter_unsubscribes.id;


--
-- Name: newsletters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.newsletters (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    subject character varying(250) NOT NULL,
    body text NOT NULL,
    filters json NOT NULL,
    segment_id integer,
    status character varying(10) NOT NULL,
    tested_hash character varying(64) NOT NULL,
    tested_to character varying(254) NOT NULL,
    tested_at timestamp with time zone,
    sent_at timestamp with time zone,
    recipients integer NOT NULL,
    created_by_id integer,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: newsletters_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.newsletters_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: newsletters_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.newsletters_id_seq OWNED BY public.newsletters.id;


--
-- Name: notifier_watermarks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notifier_watermarks (
    name character varying(40) NOT NULL,
    value integer NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: opt_outs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.opt_outs (
    id integer NOT NULL,
    number character varying(320) NOT NULL,
    channel character varying(8) NOT NULL,
    opted_out_at timestamp with time zone NOT NULL,
    source character varying(60) NOT NULL
);


--
-- Name: opt_outs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.opt_outs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: opt_outs_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.opt_outs_id_seq OWNED BY public.opt_outs.id;


--
-- Name: outbox_messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox_messages (
    id integer NOT NULL,
    channel character varying(8) NOT NULL,
    recipient character varying(320) NOT NULL,
    subject character varying(300) NOT NULL,
    body text NOT NULL,
    client_id integer,
    purpose character varying(40) NOT NULL,
    template character varying(80) NOT NULL,
    meta json NOT NULL,
    due_at timestamp with time zone NOT NULL,
    idempotency_key character varying(200) NOT NULL,
    status character varying(12) NOT NULL,
    attempts integer NOT NULL,
    last_attempt_at timestamp with time zone,
    next_attempt_at timestamp with time zone NOT NULL,
    provider_id character varying(64),
    error_code character varying(20) NOT NULL,
    error_message text NOT NULL,
    claimed_by character varying(80) NOT NULL,
    claimed_until timestamp with time zone,
    segments integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: outbox_messages_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.outbox_messages_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: outbox_messages_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.outbox_messages_id_seq OWNED BY public.outbox_messages.id;


--
-- Name: outbox_status_history; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox_status_history (
    id integer NOT NULL,
    message_id integer NOT NULL,
    status character varying(12) NOT NULL,
    at timestamp with time zone NOT NULL,
    source character varying(20) NOT NULL,
    error_code character varying(20) NOT NULL,
    detail text NOT NULL
);


--
-- Name: outbox_status_history_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.outbox_status_history_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: outbox_status_history_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.outbox_status_history_id_seq OWNED BY public.outbox_status_history.id;


--
-- Name: reminder_rules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.reminder_rules (
    id integer NOT NULL,
    event_type character varying(40) NOT NULL,
    channel character varying(10) NOT NULL,
    offset_minutes integer NOT NULL,
    active boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: reminder_rules_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.reminder_rules_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: reminder_rules_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.reminder_rules_id_seq OWNED BY public.reminder_rules.id;


--
-- Name: reminder_schedules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.reminder_schedules (
    task_id integer NOT NULL,
    revision integer NOT NULL,
    signature character varying(40) NOT NULL
);


--
-- Name: saved_filters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.saved_filters (
    id integer NOT NULL,
    user_id integer NOT NULL,
    name character varying(80) NOT NULL,
    query character varying(2000) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: saved_filters_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.saved_filters_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: saved_filters_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.saved_filters_id_seq OWNED BY public.saved_filters.id;


--
-- Name: saved_segments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.saved_segments (
    id integer NOT NULL,
    name character varying(120) NOT NULL,
    filters json NOT NULL,
    created_by_id integer,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: saved_segments_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.saved_segments_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: saved_segments_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.saved_segments_id_seq OWNED BY public.saved_segments.id;


--
-- Name: search_refresh_queue; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search_refresh_queue (
    client_id integer NOT NULL
);


--
-- Name: search_refresh_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search_refresh_state (
    id integer NOT NULL,
    reason character varying(300) NOT NULL,
    requested_at timestamp with time zone,
    total integer NOT NULL,
    heartbeat_at timestamp with time zone,
    finished_at timestamp with time zone,
    error text NOT NULL,
    failed_at timestamp with time zone,
    cause character varying(20) DEFAULT 'other'::character varying NOT NULL,
    field_label character varying(120) DEFAULT ''::character varying NOT NULL
);


--
-- Name: surveys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.surveys (
    id integer NOT NULL,
    client_id integer NOT NULL,
    phone_e164 character varying(20) NOT NULL,
    language character varying(8) NOT NULL,
    source character varying(10) NOT NULL,
    source_ref character varying(64) NOT NULL,
    call_id integer,
    operator_user_id integer,
    team_id integer,
    status character varying(10) NOT NULL,
    rating integer,
    reply text NOT NULL,
    clarified boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    send_at timestamp with time zone NOT NULL,
    answered_at timestamp with time zone,
    low_rating_task_id integer
);


--
-- Name: surveys_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.surveys_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: surveys_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.surveys_id_seq OWNED BY public.surveys.id;


--
-- Name: tasks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tasks (
    id integer NOT NULL,
    kind character varying(10) NOT NULL,
    event_type character varying(40) NOT NULL,
    title character varying(250) NOT NULL,
    description text NOT NULL,
    client_id integer,
    assignee_id integer,
    team_id integer,
    creator_id integer,
    due_at timestamp with time zone,
    starts_at timestamp with time zone,
    ends_at timestamp with time zone,
    location character varying(250) NOT NULL,
    remind_at timestamp with time zone,
    reminded_at timestamp with time zone,
    priority character varying(10) NOT NULL,
    status character varying(15) NOT NULL,
    source character varying(40) NOT NULL,
    call_id character varying(64),
    created_at timestamp with time zone NOT NULL,
    completed_at timestamp with time zone
);


--
-- Name: tasks_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.tasks_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: tasks_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.tasks_id_seq OWNED BY public.tasks.id;


--
-- Name: teams; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.teams (
    id integer NOT NULL,
    name character varying(120) NOT NULL,
    manager_id integer,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: teams_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.teams_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: teams_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.teams_id_seq OWNED BY public.teams.id;


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id integer NOT NULL,
    username character varying(80) NOT NULL,
    full_name character varying(200) NOT NULL,
    email character varying(254),
    password_hash character varying(255) NOT NULL,
    role character varying(20) NOT NULL,
    team_id integer,
    extension character varying(32),
    language character varying(8) NOT NULL,
    is_active boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: users_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;


--
-- Name: attachments id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments ALTER COLUMN id SET DEFAULT nextval('public.attachments_id_seq'::regclass);


--
-- Name: audit_log id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);


--
-- Name: auth_sessions id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions ALTER COLUMN id SET DEFAULT nextval('public.auth_sessions_id_seq'::regclass);


--
-- Name: call_legs id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_legs ALTER COLUMN id SET DEFAULT nextval('public.call_legs_id_seq'::regclass);


--
-- Name: call_notes id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_notes ALTER COLUMN id SET DEFAULT nextval('public.call_notes_id_seq'::regclass);


--
-- Name: calls id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls ALTER COLUMN id SET DEFAULT nextval('public.calls_id_seq'::regclass);


--
-- Name: choice_items id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.choice_items ALTER COLUMN id SET DEFAULT nextval('public.choice_items_id_seq'::regclass);


--
-- Name: client_addresses id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_addresses ALTER COLUMN id SET DEFAULT nextval('public.client_addresses_id_seq'::regclass);


--
-- Name: client_emails id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_emails ALTER COLUMN id SET DEFAULT nextval('public.client_emails_id_seq'::regclass);


--
-- Name: client_handles id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_handles ALTER COLUMN id SET DEFAULT nextval('public.client_handles_id_seq'::regclass);


--
-- Name: client_phones id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_phones ALTER COLUMN id SET DEFAULT nextval('public.client_phones_id_seq'::regclass);


--
-- Name: clients id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clients ALTER COLUMN id SET DEFAULT nextval('public.clients_id_seq'::regclass);


--
-- Name: custom_field_values id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_values ALTER COLUMN id SET DEFAULT nextval('public.custom_field_values_id_seq'::regclass);


--
-- Name: custom_fields id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_fields ALTER COLUMN id SET DEFAULT nextval('public.custom_fields_id_seq'::regclass);


--
-- Name: field_labels id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.field_labels ALTER COLUMN id SET DEFAULT nextval('public.field_labels_id_seq'::regclass);


--
-- Name: inbound_sms id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_sms ALTER COLUMN id SET DEFAULT nextval('public.inbound_sms_id_seq'::regclass);


--
-- Name: interactions id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions ALTER COLUMN id SET DEFAULT nextval('public.interactions_id_seq'::regclass);


--
-- Name: login_attempts id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.login_attempts ALTER COLUMN id SET DEFAULT nextval('public.login_attempts_id_seq'::regclass);


--
-- Name: message_templates id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_templates ALTER COLUMN id SET DEFAULT nextval('public.message_templates_id_seq'::regclass);


--
-- Name: newsletter_unsubscribes id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletter_unsubscribes ALTER COLUMN id SET DEFAULT nextval('public.newsletter_unsubscribes_id_seq'::regclass);


--
-- Name: newsletters id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletters ALTER COLUMN id SET DEFAULT nextval('public.newsletters_id_seq'::regclass);


--
-- Name: opt_outs id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.opt_outs ALTER COLUMN id SET DEFAULT nextval('public.opt_outs_id_seq'::regclass);


--
-- Name: outbox_messages id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_messages ALTER COLUMN id SET DEFAULT nextval('public.outbox_messages_id_seq'::regclass);


--
-- Name: outbox_status_history id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_status_history ALTER COLUMN id SET DEFAULT nextval('public.outbox_status_history_id_seq'::regclass);


--
-- Name: reminder_rules id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminder_rules ALTER COLUMN id SET DEFAULT nextval('public.reminder_rules_id_seq'::regclass);


--
-- Name: saved_filters id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.saved_filters ALTER COLUMN id SET DEFAULT nextval('public.saved_filters_id_seq'::regclass);


--
-- Name: saved_segments id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.saved_segments ALTER COLUMN id SET DEFAULT nextval('public.saved_segments_id_seq'::regclass);


--
-- Name: surveys id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.surveys ALTER COLUMN id SET DEFAULT nextval('public.surveys_id_seq'::regclass);


--
-- Name: tasks id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tasks ALTER COLUMN id SET DEFAULT nextval('public.tasks_id_seq'::regclass);


--
-- Name: teams id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.teams ALTER COLUMN id SET DEFAULT nextval('public.teams_id_seq'::regclass);


--
-- Name: users id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);


--
-- Data for Name: alembic_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.alembic_version VALUES ('0008_core_search_refresh_cause');


--
-- Data for Name: attachments; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: auth_sessions; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: call_legs; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: call_notes; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: calls; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: choice_items; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: client_addresses; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: client_emails; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: client_handles; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: client_phones; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: client_tags; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: clients; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: custom_field_values; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: custom_fields; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: field_labels; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: inbound_sms; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: interactions; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: login_attempts; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: message_templates; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: newsletter_unsubscribes; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: newsletters; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: notifier_watermarks; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: opt_outs; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: outbox_messages; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: outbox_status_history; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: reminder_rules; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: reminder_schedules; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: saved_filters; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: saved_segments; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: search_refresh_queue; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: search_refresh_state; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: surveys; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: tasks; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: teams; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: attachments_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.attachments_id_seq', 1, false);


--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_log_id_seq', 1, false);


--
-- Name: auth_sessions_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.auth_sessions_id_seq', 1, false);


--
-- Name: call_legs_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.call_legs_id_seq', 1, false);


--
-- Name: call_notes_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.call_notes_id_seq', 1, false);


--
-- Name: calls_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.calls_id_seq', 1, false);


--
-- Name: choice_items_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.choice_items_id_seq', 1, false);


--
-- Name: client_addresses_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.client_addresses_id_seq', 1, false);


--
-- Name: client_emails_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.client_emails_id_seq', 1, false);


--
-- Name: client_handles_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.client_handles_id_seq', 1, false);


--
-- Name: client_phones_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.client_phones_id_seq', 1, false);


--
-- Name: clients_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.clients_id_seq', 1, false);


--
-- Name: custom_field_values_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.custom_field_values_id_seq', 1, false);


--
-- Name: custom_fields_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.custom_fields_id_seq', 1, false);


--
-- Name: field_labels_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.field_labels_id_seq', 1, false);


--
-- Name: inbound_sms_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.inbound_sms_id_seq', 1, false);


--
-- Name: interactions_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.interactions_id_seq', 1, false);


--
-- Name: login_attempts_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.login_attempts_id_seq', 1, false);


--
-- Name: message_templates_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.message_templates_id_seq', 1, false);


--
-- Name: newsletter_unsubscribes_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.newsletter_unsubscribes_id_seq', 1, false);


--
-- Name: newsletters_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.newsletters_id_seq', 1, false);


--
-- Name: opt_outs_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.opt_outs_id_seq', 1, false);


--
-- Name: outbox_messages_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.outbox_messages_id_seq', 1, false);


--
-- Name: outbox_status_history_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.outbox_status_history_id_seq', 1, false);


--
-- Name: reminder_rules_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.reminder_rules_id_seq', 1, false);


--
-- Name: saved_filters_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.saved_filters_id_seq', 1, false);


--
-- Name: saved_segments_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.saved_segments_id_seq', 1, false);


--
-- Name: surveys_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.surveys_id_seq', 1, false);


--
-- Name: tasks_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.tasks_id_seq', 1, false);


--
-- Name: teams_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.teams_id_seq', 1, false);


--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.users_id_seq', 1, false);


--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);


--
-- Name: attachments pk_attachments; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT pk_attachments PRIMARY KEY (id);


--
-- Name: audit_log pk_audit_log; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT pk_audit_log PRIMARY KEY (id);


--
-- Name: auth_sessions pk_auth_sessions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT pk_auth_sessions PRIMARY KEY (id);


--
-- Name: call_legs pk_call_legs; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_legs
    ADD CONSTRAINT pk_call_legs PRIMARY KEY (id);


--
-- Name: call_notes pk_call_notes; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_notes
    ADD CONSTRAINT pk_call_notes PRIMARY KEY (id);


--
-- Name: calls pk_calls; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT pk_calls PRIMARY KEY (id);


--
-- Name: choice_items pk_choice_items; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.choice_items
    ADD CONSTRAINT pk_choice_items PRIMARY KEY (id);


--
-- Name: client_addresses pk_client_addresses; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_addresses
    ADD CONSTRAINT pk_client_addresses PRIMARY KEY (id);


--
-- Name: client_emails pk_client_emails; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_emails
    ADD CONSTRAINT pk_client_emails PRIMARY KEY (id);


--
-- Name: client_handles pk_client_handles; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_handles
    ADD CONSTRAINT pk_client_handles PRIMARY KEY (id);


--
-- Name: client_phones pk_client_phones; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_phones
    ADD CONSTRAINT pk_client_phones PRIMARY KEY (id);


--
-- Name: client_tags pk_client_tags; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_tags
    ADD CONSTRAINT pk_client_tags PRIMARY KEY (client_id, tag);


--
-- Name: clients pk_clients; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT pk_clients PRIMARY KEY (id);


--
-- Name: custom_field_values pk_custom_field_values; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_values
    ADD CONSTRAINT pk_custom_field_values PRIMARY KEY (id);


--
-- Name: custom_fields pk_custom_fields; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_fields
    ADD CONSTRAINT pk_custom_fields PRIMARY KEY (id);


--
-- Name: field_labels pk_field_labels; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.field_labels
    ADD CONSTRAINT pk_field_labels PRIMARY KEY (id);


--
-- Name: inbound_sms pk_inbound_sms; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_sms
    ADD CONSTRAINT pk_inbound_sms PRIMARY KEY (id);


--
-- Name: interactions pk_interactions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions
    ADD CONSTRAINT pk_interactions PRIMARY KEY (id);


--
-- Name: login_attempts pk_login_attempts; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.login_attempts
    ADD CONSTRAINT pk_login_attempts PRIMARY KEY (id);


--
-- Name: message_templates pk_message_templates; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_templates
    ADD CONSTRAINT pk_message_templates PRIMARY KEY (id);


--
-- Name: newsletter_unsubscribes pk_newsletter_unsubscribes; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletter_unsubscribes
    ADD CONSTRAINT pk_newsletter_unsubscribes PRIMARY KEY (id);


--
-- Name: newsletters pk_newsletters; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletters
    ADD CONSTRAINT pk_newsletters PRIMARY KEY (id);


--
-- Name: notifier_watermarks pk_notifier_watermarks; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifier_watermarks
    ADD CONSTRAINT pk_notifier_watermarks PRIMARY KEY (name);


--
-- Name: opt_outs pk_opt_outs; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.opt_outs
    ADD CONSTRAINT pk_opt_outs PRIMARY KEY (id);


--
-- Name: outbox_messages pk_outbox_messages; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_messages
    ADD CONSTRAINT pk_outbox_messages PRIMARY KEY (id);


--
-- Name: outbox_status_history pk_outbox_status_history; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_status_history
    ADD CONSTRAINT pk_outbox_status_history PRIMARY KEY (id);


--
-- Name: reminder_rules pk_reminder_rules; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminder_rules
    ADD CONSTRAINT pk_reminder_rules PRIMARY KEY (id);


--
-- Name: reminder_schedules pk_reminder_schedules; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminder_schedules
    ADD CONSTRAINT pk_reminder_schedules PRIMARY KEY (task_id);


--
-- Name: saved_filters pk_saved_filters; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.saved_filters
    ADD CONSTRAINT pk_saved_filters PRIMARY KEY (id);


--
-- Name: saved_segments pk_saved_segments; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.saved_segments
    ADD CONSTRAINT pk_saved_segments PRIMARY KEY (id);


--
-- Name: search_refresh_queue pk_search_refresh_queue; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_refresh_queue
    ADD CONSTRAINT pk_search_refresh_queue PRIMARY KEY (client_id);


--
-- Name: search_refresh_state pk_search_refresh_state; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_refresh_state
    ADD CONSTRAINT pk_search_refresh_state PRIMARY KEY (id);


--
-- Name: surveys pk_surveys; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.surveys
    ADD CONSTRAINT pk_surveys PRIMARY KEY (id);


--
-- Name: tasks pk_tasks; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT pk_tasks PRIMARY KEY (id);


--
-- Name: teams pk_teams; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.teams
    ADD CONSTRAINT pk_teams PRIMARY KEY (id);


--
-- Name: users pk_users; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT pk_users PRIMARY KEY (id);


--
-- Name: auth_sessions uq_auth_sessions_token_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT uq_auth_sessions_token_hash UNIQUE (token_hash);


--
-- Name: call_notes uq_call_notes_linkedid; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_notes
    ADD CONSTRAINT uq_call_notes_linkedid UNIQUE (linkedid);


--
-- Name: calls uq_calls_linkedid; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT uq_calls_linkedid UNIQUE (linkedid);


--
-- Name: custom_field_values uq_custom_field_values_field_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_values
    ADD CONSTRAINT uq_custom_field_values_field_id UNIQUE (field_id, entity_id);


--
-- Name: custom_fields uq_custom_fields_entity; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_fields
    ADD CONSTRAINT uq_custom_fields_entity UNIQUE (entity, key);


--
-- Name: field_labels uq_field_labels_entity; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.field_labels
    ADD CONSTRAINT uq_field_labels_entity UNIQUE (entity, field, language);


--
-- Name: inbound_sms uq_inbound_sms_provider_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_sms
    ADD CONSTRAINT uq_inbound_sms_provider_id UNIQUE (provider_id);


--
-- Name: message_templates uq_message_templates_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_templates
    ADD CONSTRAINT uq_message_templates_key UNIQUE (key, language);


--
-- Name: newsletter_unsubscribes uq_newsletter_unsubscribes_email_lower; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletter_unsubscribes
    ADD CONSTRAINT uq_newsletter_unsubscribes_email_lower UNIQUE (email_lower);


--
-- Name: opt_outs uq_opt_outs_number; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.opt_outs
    ADD CONSTRAINT uq_opt_outs_number UNIQUE (number, channel);


--
-- Name: outbox_messages uq_outbox_messages_idempotency_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_messages
    ADD CONSTRAINT uq_outbox_messages_idempotency_key UNIQUE (idempotency_key);


--
-- Name: reminder_rules uq_reminder_rules_event_type; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminder_rules
    ADD CONSTRAINT uq_reminder_rules_event_type UNIQUE (event_type, channel, offset_minutes);


--
-- Name: saved_filters uq_saved_filters_user_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.saved_filters
    ADD CONSTRAINT uq_saved_filters_user_name UNIQUE (user_id, name);


--
-- Name: saved_segments uq_saved_segments_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.saved_segments
    ADD CONSTRAINT uq_saved_segments_name UNIQUE (name);


--
-- Name: surveys uq_surveys_source; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.surveys
    ADD CONSTRAINT uq_surveys_source UNIQUE (source, source_ref);


--
-- Name: teams uq_teams_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.teams
    ADD CONSTRAINT uq_teams_name UNIQUE (name);


--
-- Name: users uq_users_extension; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT uq_users_extension UNIQUE (extension);


--
-- Name: users uq_users_username; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT uq_users_username UNIQUE (username);


--
-- Name: ix_attachments_client_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_attachments_client_id ON public.attachments USING btree (client_id);


--
-- Name: ix_attachments_owner; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_attachments_owner ON public.attachments USING btree (owner_type, owner_id);


--
-- Name: ix_attachments_sha256; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_attachments_sha256 ON public.attachments USING btree (sha256);


--
-- Name: ix_audit_entity; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_audit_entity ON public.audit_log USING btree (entity, entity_id);


--
-- Name: ix_audit_log_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_audit_log_at ON public.audit_log USING btree (at);


--
-- Name: ix_call_legs_call_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_legs_call_id ON public.call_legs USING btree (call_id);


--
-- Name: ix_call_legs_extension; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_legs_extension ON public.call_legs USING btree (extension);


--
-- Name: ix_call_legs_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_call_legs_user_id ON public.call_legs USING btree (user_id);


--
-- Name: ix_calls_answered_extension; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_answered_extension ON public.calls USING btree (answered_extension);


--
-- Name: ix_calls_answered_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_answered_user_id ON public.calls USING btree (answered_user_id);


--
-- Name: ix_calls_client_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_client_id ON public.calls USING btree (client_id);


--
-- Name: ix_calls_client_started; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_client_started ON public.calls USING btree (client_id, started_at);


--
-- Name: ix_calls_direction; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_direction ON public.calls USING btree (direction);


--
-- Name: ix_calls_disposition; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_disposition ON public.calls USING btree (disposition);


--
-- Name: ix_calls_e164; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_e164 ON public.calls USING btree (e164);


--
-- Name: ix_calls_started_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_started_at ON public.calls USING btree (started_at);


--
-- Name: ix_calls_team_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_calls_team_id ON public.calls USING btree (team_id);


--
-- Name: ix_cfv_field_number; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cfv_field_number ON public.custom_field_values USING btree (field_id, value_number);


--
-- Name: ix_cfv_field_text; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cfv_field_text ON public.custom_field_values USING btree (field_id, value_text);


--
-- Name: ix_choice_items_list_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_choice_items_list_name ON public.choice_items USING btree (list_name);


--
-- Name: ix_client_addresses_city; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_client_addresses_city ON public.client_addresses USING btree (city);


--
-- Name: ix_client_addresses_client_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_client_addresses_client_id ON public.client_addresses USING btree (client_id);


--
-- Name: ix_client_emails_address_lower; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_client_emails_address_lower ON public.client_emails USING btree (address_lower);


--
-- Name: ix_client_emails_client_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_client_emails_client_id ON public.client_emails USING btree (client_id);


--
-- Name: ix_client_handles_client_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_client_handles_client_id ON public.client_handles USING btree (client_id);


--
-- Name: ix_client_phones_client_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_client_phones_client_id ON public.client_phones USING btree (client_id);


--
-- Name: ix_client_phones_e164; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_client_phones_e164 ON public.client_phones USING btree (e164);


--
-- Name: ix_client_tags_tag; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_client_tags_tag ON public.client_tags USING btree (tag);


--
-- Name: ix_clients_category; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_category ON public.clients USING btree (category);


--
-- Name: ix_clients_category_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_category_name ON public.clients USING btree (category, display_name);


--
-- Name: ix_clients_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_created_at ON public.clients USING btree (created_at);


--
-- Name: ix_clients_display_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_display_name ON public.clients USING btree (display_name);


--
-- Name: ix_clients_organization_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_organization_id ON public.clients USING btree (organization_id);


--
-- Name: ix_clients_owner_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_owner_id ON public.clients USING btree (owner_id);


--
-- Name: ix_clients_search_trgm; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_search_trgm ON public.clients USING gin (search_text public.gin_trgm_ops);


--
-- Name: ix_clients_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_status ON public.clients USING btree (status);


--
-- Name: ix_clients_status_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_status_name ON public.clients USING btree (status, display_name);


--
-- Name: ix_clients_team_deleted; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_clients_team_deleted ON public.clients USING btree (team_id, deleted_at);


--
-- Name: ix_custom_field_values_entity_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_custom_field_values_entity_id ON public.custom_field_values USING btree (entity_id);


--
-- Name: ix_inbound_sms_client_received; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_inbound_sms_client_received ON public.inbound_sms USING btree (client_id, received_at);


--
-- Name: ix_inbound_sms_from_e164; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_inbound_sms_from_e164 ON public.inbound_sms USING btree (from_e164);


--
-- Name: ix_inbound_sms_outcome; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_inbound_sms_outcome ON public.inbound_sms USING btree (outcome);


--
-- Name: ix_inbound_sms_received_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_inbound_sms_received_at ON public.inbound_sms USING btree (received_at);


--
-- Name: ix_interactions_call_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_call_id ON public.interactions USING btree (call_id);


--
-- Name: ix_interactions_client_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_client_time ON public.interactions USING btree (client_id, occurred_at);


--
-- Name: ix_login_attempts_address; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_login_attempts_address ON public.login_attempts USING btree (address);


--
-- Name: ix_login_attempts_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_login_attempts_at ON public.login_attempts USING btree (at);


--
-- Name: ix_login_attempts_username; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_login_attempts_username ON public.login_attempts USING btree (username);


--
-- Name: ix_outbox_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_due ON public.outbox_messages USING btree (next_attempt_at) WHERE ((status)::text = ANY ((ARRAY['pending'::character varying, 'retry'::character varying])::text[]));


--
-- Name: ix_outbox_inflight; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_inflight ON public.outbox_messages USING btree (status, claimed_until) WHERE ((status)::text = ANY ((ARRAY['claimed'::character varying, 'sending'::character varying, 'unknown'::character varying, 'reconciling'::character varying])::text[]));


--
-- Name: ix_outbox_messages_client_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_messages_client_id ON public.outbox_messages USING btree (client_id);


--
-- Name: ix_outbox_messages_provider_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_messages_provider_id ON public.outbox_messages USING btree (provider_id) WHERE (provider_id IS NOT NULL);


--
-- Name: ix_outbox_recipient_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_recipient_created ON public.outbox_messages USING btree (recipient, created_at);


--
-- Name: ix_outbox_status_history_message_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_status_history_message_id ON public.outbox_status_history USING btree (message_id);


--
-- Name: ix_saved_filters_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_saved_filters_user_id ON public.saved_filters USING btree (user_id);


--
-- Name: ix_surveys_answered; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_surveys_answered ON public.surveys USING btree (answered_at);


--
-- Name: ix_surveys_client_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_surveys_client_created ON public.surveys USING btree (client_id, created_at);


--
-- Name: ix_surveys_operator_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_surveys_operator_user_id ON public.surveys USING btree (operator_user_id);


--
-- Name: ix_surveys_phone_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_surveys_phone_status ON public.surveys USING btree (phone_e164, status);


--
-- Name: ix_tasks_assignee_status_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tasks_assignee_status_due ON public.tasks USING btree (assignee_id, status, due_at);


--
-- Name: ix_tasks_call_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tasks_call_id ON public.tasks USING btree (call_id);


--
-- Name: ix_tasks_client_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tasks_client_status ON public.tasks USING btree (client_id, status);


--
-- Name: ix_tasks_remind_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tasks_remind_at ON public.tasks USING btree (remind_at);


--
-- Name: ix_tasks_team_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tasks_team_id ON public.tasks USING btree (team_id);


--
-- Name: ix_users_team_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_users_team_id ON public.users USING btree (team_id);


--
-- Name: attachments fk_attachments_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT fk_attachments_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: attachments fk_attachments_uploaded_by_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT fk_attachments_uploaded_by_id_users FOREIGN KEY (uploaded_by_id) REFERENCES public.users(id);


--
-- Name: audit_log fk_audit_log_actor_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT fk_audit_log_actor_id_users FOREIGN KEY (actor_id) REFERENCES public.users(id);


--
-- Name: auth_sessions fk_auth_sessions_user_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT fk_auth_sessions_user_id_users FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: call_legs fk_call_legs_call_id_calls; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_legs
    ADD CONSTRAINT fk_call_legs_call_id_calls FOREIGN KEY (call_id) REFERENCES public.calls(id) ON DELETE CASCADE;


--
-- Name: call_legs fk_call_legs_user_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_legs
    ADD CONSTRAINT fk_call_legs_user_id_users FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: call_notes fk_call_notes_author_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_notes
    ADD CONSTRAINT fk_call_notes_author_id_users FOREIGN KEY (author_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: calls fk_calls_answered_user_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT fk_calls_answered_user_id_users FOREIGN KEY (answered_user_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: calls fk_calls_callback_task_id_tasks; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT fk_calls_callback_task_id_tasks FOREIGN KEY (callback_task_id) REFERENCES public.tasks(id) ON DELETE SET NULL;


--
-- Name: calls fk_calls_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT fk_calls_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE SET NULL;


--
-- Name: calls fk_calls_interaction_id_interactions; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT fk_calls_interaction_id_interactions FOREIGN KEY (interaction_id) REFERENCES public.interactions(id) ON DELETE SET NULL;


--
-- Name: calls fk_calls_team_id_teams; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT fk_calls_team_id_teams FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE SET NULL;


--
-- Name: client_addresses fk_client_addresses_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_addresses
    ADD CONSTRAINT fk_client_addresses_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: client_emails fk_client_emails_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_emails
    ADD CONSTRAINT fk_client_emails_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: client_handles fk_client_handles_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_handles
    ADD CONSTRAINT fk_client_handles_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: client_phones fk_client_phones_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_phones
    ADD CONSTRAINT fk_client_phones_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: client_tags fk_client_tags_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.client_tags
    ADD CONSTRAINT fk_client_tags_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: clients fk_clients_created_by_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT fk_clients_created_by_id_users FOREIGN KEY (created_by_id) REFERENCES public.users(id);


--
-- Name: clients fk_clients_organization_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT fk_clients_organization_id_clients FOREIGN KEY (organization_id) REFERENCES public.clients(id) ON DELETE SET NULL;


--
-- Name: clients fk_clients_owner_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT fk_clients_owner_id_users FOREIGN KEY (owner_id) REFERENCES public.users(id);


--
-- Name: clients fk_clients_team_id_teams; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT fk_clients_team_id_teams FOREIGN KEY (team_id) REFERENCES public.teams(id);


--
-- Name: custom_field_values fk_custom_field_values_field_id_custom_fields; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_values
    ADD CONSTRAINT fk_custom_field_values_field_id_custom_fields FOREIGN KEY (field_id) REFERENCES public.custom_fields(id) ON DELETE CASCADE;


--
-- Name: inbound_sms fk_inbound_sms_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_sms
    ADD CONSTRAINT fk_inbound_sms_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE SET NULL;


--
-- Name: inbound_sms fk_inbound_sms_interaction_id_interactions; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_sms
    ADD CONSTRAINT fk_inbound_sms_interaction_id_interactions FOREIGN KEY (interaction_id) REFERENCES public.interactions(id) ON DELETE SET NULL;


--
-- Name: inbound_sms fk_inbound_sms_survey_id_surveys; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_sms
    ADD CONSTRAINT fk_inbound_sms_survey_id_surveys FOREIGN KEY (survey_id) REFERENCES public.surveys(id) ON DELETE SET NULL;


--
-- Name: interactions fk_interactions_author_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions
    ADD CONSTRAINT fk_interactions_author_id_users FOREIGN KEY (author_id) REFERENCES public.users(id);


--
-- Name: interactions fk_interactions_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions
    ADD CONSTRAINT fk_interactions_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: message_templates fk_message_templates_updated_by_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_templates
    ADD CONSTRAINT fk_message_templates_updated_by_id_users FOREIGN KEY (updated_by_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: newsletter_unsubscribes fk_newsletter_unsubscribes_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletter_unsubscribes
    ADD CONSTRAINT fk_newsletter_unsubscribes_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE SET NULL;


--
-- Name: newsletter_unsubscribes fk_newsletter_unsubscribes_newsletter_id_newsletters; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletter_unsubscribes
    ADD CONSTRAINT fk_newsletter_unsubscribes_newsletter_id_newsletters FOREIGN KEY (newsletter_id) REFERENCES public.newsletters(id) ON DELETE SET NULL;


--
-- Name: newsletters fk_newsletters_created_by_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletters
    ADD CONSTRAINT fk_newsletters_created_by_id_users FOREIGN KEY (created_by_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: newsletters fk_newsletters_segment_id_saved_segments; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.newsletters
    ADD CONSTRAINT fk_newsletters_segment_id_saved_segments FOREIGN KEY (segment_id) REFERENCES public.saved_segments(id) ON DELETE SET NULL;


--
-- Name: outbox_messages fk_outbox_messages_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_messages
    ADD CONSTRAINT fk_outbox_messages_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE SET NULL;


--
-- Name: outbox_status_history fk_outbox_status_history_message_id_outbox_messages; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_status_history
    ADD CONSTRAINT fk_outbox_status_history_message_id_outbox_messages FOREIGN KEY (message_id) REFERENCES public.outbox_messages(id) ON DELETE CASCADE;


--
-- Name: reminder_schedules fk_reminder_schedules_task_id_tasks; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminder_schedules
    ADD CONSTRAINT fk_reminder_schedules_task_id_tasks FOREIGN KEY (task_id) REFERENCES public.tasks(id) ON DELETE CASCADE;


--
-- Name: saved_filters fk_saved_filters_user_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.saved_filters
    ADD CONSTRAINT fk_saved_filters_user_id_users FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: saved_segments fk_saved_segments_created_by_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.saved_segments
    ADD CONSTRAINT fk_saved_segments_created_by_id_users FOREIGN KEY (created_by_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: surveys fk_surveys_call_id_calls; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.surveys
    ADD CONSTRAINT fk_surveys_call_id_calls FOREIGN KEY (call_id) REFERENCES public.calls(id) ON DELETE SET NULL;


--
-- Name: surveys fk_surveys_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.surveys
    ADD CONSTRAINT fk_surveys_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: surveys fk_surveys_low_rating_task_id_tasks; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.surveys
    ADD CONSTRAINT fk_surveys_low_rating_task_id_tasks FOREIGN KEY (low_rating_task_id) REFERENCES public.tasks(id) ON DELETE SET NULL;


--
-- Name: surveys fk_surveys_operator_user_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.surveys
    ADD CONSTRAINT fk_surveys_operator_user_id_users FOREIGN KEY (operator_user_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: surveys fk_surveys_team_id_teams; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.surveys
    ADD CONSTRAINT fk_surveys_team_id_teams FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE SET NULL;


--
-- Name: tasks fk_tasks_assignee_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT fk_tasks_assignee_id_users FOREIGN KEY (assignee_id) REFERENCES public.users(id);


--
-- Name: tasks fk_tasks_client_id_clients; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT fk_tasks_client_id_clients FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: tasks fk_tasks_creator_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT fk_tasks_creator_id_users FOREIGN KEY (creator_id) REFERENCES public.users(id);


--
-- Name: tasks fk_tasks_team_id_teams; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT fk_tasks_team_id_teams FOREIGN KEY (team_id) REFERENCES public.teams(id);


--
-- Name: teams fk_teams_manager_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.teams
    ADD CONSTRAINT fk_teams_manager_id_users FOREIGN KEY (manager_id) REFERENCES public.users(id);


--
-- Name: users fk_users_team_id_teams; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT fk_users_team_id_teams FOREIGN KEY (team_id) REFERENCES public.teams(id);


--
-- PostgreSQL database dump complete
--


