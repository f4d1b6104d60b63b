-- The schema as csbot before Alembic left a SQLite database, step by step: the statements
-- its migration steps sent (captured from the code of commits 1d2d34b for steps 1-2,
-- 2c1f242 for 3, f7f4c92 for 4-5, and 7b55642 for "4i", the interim numbering when step 4
-- made the intake tables). Frozen: tests/test_migrations.py builds old databases from this,
-- never from today's schema. Each step also wrote its row in schema_version (the test does).

-- step 1
CREATE TABLE schema_version (
	version INTEGER NOT NULL,
	applied_at DATETIME NOT NULL,
	PRIMARY KEY (version)
);

CREATE TABLE conversations (
	id VARCHAR(36) NOT NULL,
	shop VARCHAR(100) NOT NULL,
	buyer_key VARCHAR(150) NOT NULL,
	order_key VARCHAR(100) NOT NULL,
	agent VARCHAR(100),
	stage VARCHAR(40) NOT NULL,
	outcome VARCHAR(40),
	is_open BOOLEAN NOT NULL,
	turn INTEGER NOT NULL,
	script_version VARCHAR(80) NOT NULL,
	state TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE tokens (
	name VARCHAR(100) NOT NULL,
	role VARCHAR(10) NOT NULL,
	shop VARCHAR(100) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	created_at DATETIME NOT NULL,
	revoked_at DATETIME,
	PRIMARY KEY (name),
	UNIQUE (token_hash)
);

CREATE TABLE turns (
	conversation_id VARCHAR(36) NOT NULL,
	turn INTEGER NOT NULL,
	role VARCHAR(10) NOT NULL,
	text TEXT NOT NULL,
	message_id VARCHAR(200),
	stage VARCHAR(40) NOT NULL,
	suggestion TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (conversation_id, turn),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id),
	CONSTRAINT uq_turn_message UNIQUE (conversation_id, message_id)
);

CREATE INDEX ix_conversations_stage ON conversations (stage);

CREATE INDEX ix_conversations_created_at ON conversations (created_at);

CREATE UNIQUE INDEX uq_open_case ON conversations (shop, buyer_key, order_key) WHERE is_open;

CREATE INDEX ix_conversations_shop ON conversations (shop);

-- step 2
ALTER TABLE conversations ADD COLUMN flagged BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE channel_events (
	channel VARCHAR(20) NOT NULL,
	message_id VARCHAR(200) NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (channel, message_id)
);

CREATE TABLE channel_chats (
	channel VARCHAR(20) NOT NULL,
	chat_id VARCHAR(200) NOT NULL,
	agent_id VARCHAR(200) NOT NULL,
	conversation_id VARCHAR(36) NOT NULL,
	tone VARCHAR(4) DEFAULT '正式' NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (channel, chat_id, agent_id)
);

-- step 3
CREATE INDEX IF NOT EXISTS ix_case_key ON conversations (shop, buyer_key, order_key);

-- step 4
CREATE TABLE corrections (
	id INTEGER NOT NULL,
	conversation_id VARCHAR(36) NOT NULL,
	shop VARCHAR(100) NOT NULL,
	turn INTEGER NOT NULL,
	text TEXT NOT NULL,
	intent VARCHAR(40),
	cause VARCHAR(40),
	emotion VARCHAR(20),
	stage VARCHAR(40),
	agent VARCHAR(100),
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id)
);

CREATE INDEX ix_corrections_shop ON corrections (shop);

CREATE INDEX ix_corrections_created_at ON corrections (created_at);

CREATE INDEX ix_corrections_conversation_id ON corrections (conversation_id);

-- step 5
CREATE TABLE intake_reviews (
	id INTEGER NOT NULL,
	shop VARCHAR(100) NOT NULL,
	order_id VARCHAR(100) NOT NULL,
	sub_order_id VARCHAR(100) NOT NULL,
	conversation_id VARCHAR(36) NOT NULL,
	source VARCHAR(10) NOT NULL,
	rating VARCHAR(4) NOT NULL,
	platform VARCHAR(10) NOT NULL,
	review_time DATETIME,
	review_text TEXT,
	intent VARCHAR(30),
	cause VARCHAR(30),
	emotion VARCHAR(10),
	explained_at DATETIME,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_review_order UNIQUE (shop, order_id, sub_order_id),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id)
);

CREATE INDEX ix_intake_reviews_conversation_id ON intake_reviews (conversation_id);

CREATE TABLE contact_attempts (
	id INTEGER NOT NULL,
	conversation_id VARCHAR(36) NOT NULL,
	kind VARCHAR(20) NOT NULL,
	agent VARCHAR(100),
	at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id)
);

CREATE INDEX ix_contact_attempts_conversation_id ON contact_attempts (conversation_id);

CREATE TABLE intake_cursors (
	source VARCHAR(20) NOT NULL,
	shop VARCHAR(100) NOT NULL,
	until DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (source, shop)
);

-- step 4i
CREATE TABLE intake_reviews (
	id INTEGER NOT NULL,
	shop VARCHAR(100) NOT NULL,
	order_id VARCHAR(100) NOT NULL,
	sub_order_id VARCHAR(100) NOT NULL,
	conversation_id VARCHAR(36) NOT NULL,
	source VARCHAR(10) NOT NULL,
	rating VARCHAR(4) NOT NULL,
	platform VARCHAR(10) NOT NULL,
	review_time DATETIME,
	review_text TEXT,
	intent VARCHAR(30),
	cause VARCHAR(30),
	emotion VARCHAR(10),
	explained_at DATETIME,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_review_order UNIQUE (shop, order_id, sub_order_id),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id)
);

CREATE INDEX ix_intake_reviews_conversation_id ON intake_reviews (conversation_id);

CREATE TABLE contact_attempts (
	id INTEGER NOT NULL,
	conversation_id VARCHAR(36) NOT NULL,
	kind VARCHAR(20) NOT NULL,
	agent VARCHAR(100),
	at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id)
);

CREATE INDEX ix_contact_attempts_conversation_id ON contact_attempts (conversation_id);

CREATE TABLE intake_cursors (
	source VARCHAR(20) NOT NULL,
	shop VARCHAR(100) NOT NULL,
	until DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (source, shop)
);
