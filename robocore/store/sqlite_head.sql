-- Written by `python -m robocore.store.fresh` from the Alembic migrations: do not edit.

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE robot_versions (
	id INTEGER NOT NULL, 
	robot VARCHAR(100) NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	content TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_robot_versions_robot_sha UNIQUE (robot, sha256)
);

CREATE TABLE runs (
	id VARCHAR(36) NOT NULL, 
	robot VARCHAR(100) NOT NULL, 
	version_id INTEGER NOT NULL, 
	robot_path TEXT NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	"trigger" VARCHAR(32) NOT NULL, 
	inputs JSON NOT NULL, 
	process_name VARCHAR(200), 
	service VARCHAR(200), 
	minutes_per_item FLOAT NOT NULL, 
	minutes_per_run FLOAT NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	heartbeat_at DATETIME, 
	host VARCHAR(200), 
	pid INTEGER, 
	error TEXT, owner VARCHAR(120), queue VARCHAR(50), cancel_requested INTEGER DEFAULT '0' NOT NULL, created_by VARCHAR(100), idempotency_key VARCHAR(100), 
	PRIMARY KEY (id), 
	FOREIGN KEY(version_id) REFERENCES robot_versions (id)
);

CREATE INDEX ix_runs_robot ON runs (robot);

CREATE INDEX ix_runs_started_at ON runs (started_at);

CREATE INDEX ix_runs_status ON runs (status);

CREATE TABLE items (
	id INTEGER NOT NULL, 
	run_id VARCHAR(36) NOT NULL, 
	block VARCHAR(100) NOT NULL, 
	seq INTEGER NOT NULL, 
	"key" VARCHAR(500) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	attempts INTEGER NOT NULL, 
	error TEXT, 
	evidence JSON, 
	verified INTEGER NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id), 
	CONSTRAINT uq_items_run_key UNIQUE (run_id, "key")
);

CREATE TABLE ledger (
	id INTEGER NOT NULL, 
	entry_key VARCHAR(600) NOT NULL, 
	run_id VARCHAR(36) NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	robot VARCHAR(100) NOT NULL, 
	process_name VARCHAR(200), 
	service VARCHAR(200), 
	minutes FLOAT NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id), 
	UNIQUE (entry_key)
);

CREATE INDEX ix_ledger_recorded_at ON ledger (recorded_at);

CREATE INDEX ix_ledger_run_id ON ledger (run_id);

CREATE TABLE step_events (
	id INTEGER NOT NULL, 
	run_id VARCHAR(36) NOT NULL, 
	item_key VARCHAR(500), 
	step VARCHAR(200) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	duration_ms FLOAT NOT NULL, 
	message TEXT, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);

CREATE INDEX ix_step_events_run_id ON step_events (run_id);

CREATE TABLE api_tokens (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	token_hash VARCHAR(200) NOT NULL, 
	lookup VARCHAR(16) NOT NULL, 
	groups JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME, 
	revoked_at DATETIME, expires_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (lookup), 
	UNIQUE (name)
);

CREATE TABLE grants (
	id INTEGER NOT NULL, 
	robot VARCHAR(100) NOT NULL, 
	group_name VARCHAR(100) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_grants_robot_group UNIQUE (robot, group_name)
);

CREATE TABLE schedule_fires (
	id INTEGER NOT NULL, 
	schedule VARCHAR(100) NOT NULL, 
	fire_time DATETIME NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	run_id VARCHAR(36), 
	note TEXT, 
	recorded_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_schedule_fires_schedule_time UNIQUE (schedule, fire_time)
);

CREATE INDEX ix_ledger_process_recorded ON ledger (process_name, recorded_at, minutes);

CREATE INDEX ix_ledger_service_recorded ON ledger (service, recorded_at, minutes);

CREATE INDEX ix_ledger_robot_recorded ON ledger (robot, recorded_at, minutes);

CREATE INDEX ix_ledger_month ON ledger (strftime('%Y-%m', recorded_at), recorded_at, minutes);

CREATE TABLE run_files (
	id INTEGER NOT NULL, 
	run_id VARCHAR(36) NOT NULL, 
	path VARCHAR(512) NOT NULL, 
	size BIGINT NOT NULL, 
	chunks INTEGER NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_run_files_run_path UNIQUE (run_id, path)
);

CREATE TABLE run_file_chunks (
	file_id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	data BLOB NOT NULL, 
	PRIMARY KEY (file_id, seq), 
	FOREIGN KEY(file_id) REFERENCES run_files (id) ON DELETE CASCADE
);

CREATE TABLE run_log_lines (
	run_id VARCHAR(36) NOT NULL, 
	seq INTEGER NOT NULL, 
	line TEXT NOT NULL, 
	size INTEGER NOT NULL, 
	PRIMARY KEY (run_id, seq)
);

CREATE TABLE scheduler_leader (
	id INTEGER NOT NULL, 
	owner VARCHAR(200) NOT NULL, 
	host VARCHAR(200) NOT NULL, 
	pid INTEGER NOT NULL, 
	since DATETIME NOT NULL, 
	heartbeat_at DATETIME NOT NULL, 
	note TEXT, 
	PRIMARY KEY (id)
);

CREATE TABLE processes (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	service VARCHAR(200), 
	lab VARCHAR(200), 
	region VARCHAR(200), 
	description TEXT, 
	annual_volume BIGINT, 
	goal_hours FLOAT, 
	stage VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	updated_by VARCHAR(200), 
	PRIMARY KEY (id), 
	UNIQUE (name)
);

CREATE INDEX ix_runs_process_started ON runs (process_name, started_at);

CREATE INDEX ix_ledger_process_month ON ledger (process_name, substr(recorded_at, 1, 7), recorded_at, minutes);

CREATE INDEX ix_ledger_service_month ON ledger (service, substr(recorded_at, 1, 7), recorded_at, minutes);

CREATE INDEX ix_items_run_status ON items (run_id, status, finished_at);

CREATE UNIQUE INDEX uq_runs_created_by_idempotency_key ON runs (created_by, idempotency_key);

CREATE TABLE run_supervision (
	run_id VARCHAR(36) NOT NULL, 
	started_at DATETIME NOT NULL, 
	ended_at DATETIME NOT NULL, 
	minutes FLOAT NOT NULL, 
	away JSON NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	PRIMARY KEY (run_id), 
	FOREIGN KEY(run_id) REFERENCES runs (id)
);

CREATE INDEX ix_run_supervision_ended_at ON run_supervision (ended_at);

CREATE TABLE ledger_days (
	day DATE NOT NULL, 
	robot VARCHAR(100) NOT NULL, 
	process_name VARCHAR(200), 
	service VARCHAR(200), 
	minutes FLOAT NOT NULL, 
	entries INTEGER NOT NULL, 
	CONSTRAINT uq_ledger_days_key UNIQUE (day, robot, process_name, service)
);

CREATE TRIGGER ledger_days_insert AFTER INSERT ON ledger BEGIN INSERT INTO ledger_days (day, robot, process_name, service, minutes, entries) VALUES (date(NEW.recorded_at), NEW.robot, NEW.process_name, NEW.service, NEW.minutes, 1) ON CONFLICT (day, robot, process_name, service) DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + excluded.entries; END;

CREATE TRIGGER ledger_days_delete AFTER DELETE ON ledger BEGIN INSERT INTO ledger_days (day, robot, process_name, service, minutes, entries) VALUES (date(OLD.recorded_at), OLD.robot, OLD.process_name, OLD.service, -OLD.minutes, -1) ON CONFLICT (day, robot, process_name, service) DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + excluded.entries; DELETE FROM ledger_days WHERE entries = 0 AND day = date(OLD.recorded_at) AND robot = OLD.robot AND process_name = OLD.process_name AND service = OLD.service; END;

CREATE TRIGGER ledger_days_update AFTER UPDATE OF recorded_at, robot, process_name, service, minutes ON ledger BEGIN INSERT INTO ledger_days (day, robot, process_name, service, minutes, entries) VALUES (date(OLD.recorded_at), OLD.robot, OLD.process_name, OLD.service, -OLD.minutes, -1) ON CONFLICT (day, robot, process_name, service) DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + excluded.entries; INSERT INTO ledger_days (day, robot, process_name, service, minutes, entries) VALUES (date(NEW.recorded_at), NEW.robot, NEW.process_name, NEW.service, NEW.minutes, 1) ON CONFLICT (day, robot, process_name, service) DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + excluded.entries; DELETE FROM ledger_days WHERE entries = 0 AND day = date(OLD.recorded_at) AND robot = OLD.robot AND process_name = OLD.process_name AND service = OLD.service; END;

CREATE INDEX ix_ledger_runs ON ledger (process_name, recorded_at) WHERE kind = 'run';

INSERT INTO alembic_version (version_num) VALUES ('0012');
