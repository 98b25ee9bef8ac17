import Foundation
import GRDB

/// Schema migrations. Each is named and written in SQL; a migration that has shipped is
/// never edited: change the schema by appending a new one.
enum Migrations {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-hosts-instances-samples") { db in
            try db.execute(sql: """
                CREATE TABLE host (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    serviceName TEXT NOT NULL,
                    firstSeenMs INTEGER NOT NULL,
                    lastSeenMs INTEGER NOT NULL
                );

                -- One run of a process. A restart is a new instance.
                CREATE TABLE processInstance (
                    id INTEGER PRIMARY KEY,
                    hostId INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,
                    -- process_instance_id from Hello, hex
                    instanceKey TEXT NOT NULL,
                    serviceName TEXT NOT NULL,
                    processId INTEGER NOT NULL,
                    startedAtMs INTEGER NOT NULL,
                    firstSeenMs INTEGER NOT NULL,
                    lastSeenMs INTEGER NOT NULL,
                    -- highest committed snapshot sequence (survives rollups; sent in Welcome)
                    lastSequence INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (hostId, instanceKey)
                );

                -- Raw snapshots. `sites` and `patterns` are PackedRows blobs (see PackedRows.swift).
                CREATE TABLE sample (
                    id INTEGER PRIMARY KEY,
                    instanceId INTEGER NOT NULL REFERENCES processInstance(id) ON DELETE CASCADE,
                    sequence INTEGER NOT NULL,
                    hostId INTEGER NOT NULL,
                    timestampMs INTEGER NOT NULL,
                    bytesAllocatedTotal INTEGER NOT NULL,
                    bytesInUse INTEGER NOT NULL,
                    peakBytesInUse INTEGER NOT NULL,
                    allocationCount INTEGER NOT NULL,
                    freeCount INTEGER NOT NULL,
                    blocksOutstanding INTEGER NOT NULL,
                    residentBytes INTEGER NOT NULL,
                    uptimeSeconds REAL NOT NULL,
                    sites BLOB NOT NULL,
                    patterns BLOB NOT NULL,
                    UNIQUE (instanceId, sequence)
                );
                -- Covering index: a host's series is read from the index alone, never touching
                -- the rows with their per-site blobs.
                CREATE INDEX sample_host_time ON sample(
                    hostId, timestampMs, instanceId, bytesInUse, residentBytes, allocationCount, freeCount, uptimeSeconds);
                CREATE INDEX sample_time ON sample(timestampMs);

                -- Interned call stacks, by a 128-bit digest of their frames (JSON array).
                CREATE TABLE stack (
                    id INTEGER PRIMARY KEY,
                    digest BLOB NOT NULL UNIQUE,
                    frameCount INTEGER NOT NULL,
                    frames TEXT NOT NULL,
                    typeName TEXT,
                    firstSeenMs INTEGER NOT NULL
                );

                CREATE TABLE event (
                    id INTEGER PRIMARY KEY,
                    hostId INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,
                    instanceId INTEGER NOT NULL REFERENCES processInstance(id) ON DELETE CASCADE,
                    timestampMs INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    message TEXT NOT NULL,
                    value INTEGER NOT NULL
                );
                CREATE INDEX event_host_time ON event(hostId, timestampMs);
                """)
        }
        migrator.registerMigration("v1-rollups") { db in
            try db.execute(sql: """
                -- Downsampled snapshots: 60-second buckets from raw samples older than the raw
                -- retention, 3600-second buckets from minute buckets older than theirs.
                -- Every moment lives in exactly one tier.
                CREATE TABLE sampleRollup (
                    instanceId INTEGER NOT NULL REFERENCES processInstance(id) ON DELETE CASCADE,
                    resolutionSeconds INTEGER NOT NULL,
                    bucketStartMs INTEGER NOT NULL,
                    hostId INTEGER NOT NULL,
                    pointCount INTEGER NOT NULL,
                    lastTimestampMs INTEGER NOT NULL,
                    bytesInUseMin INTEGER NOT NULL,
                    bytesInUseMax INTEGER NOT NULL,
                    bytesInUseLast INTEGER NOT NULL,
                    residentBytesMin INTEGER NOT NULL,
                    residentBytesMax INTEGER NOT NULL,
                    peakBytesInUseMax INTEGER NOT NULL,
                    bytesAllocatedTotalLast INTEGER NOT NULL,
                    allocationCountLast INTEGER NOT NULL,
                    freeCountLast INTEGER NOT NULL,
                    blocksOutstandingLast INTEGER NOT NULL,
                    uptimeSecondsLast REAL NOT NULL,
                    sites BLOB NOT NULL,
                    PRIMARY KEY (instanceId, resolutionSeconds, bucketStartMs)
                );
                CREATE INDEX sampleRollup_host_time ON sampleRollup(hostId, resolutionSeconds, bucketStartMs);
                CREATE INDEX sampleRollup_time ON sampleRollup(resolutionSeconds, bucketStartMs);
                """)
        }
        migrator.registerMigration("v1-verdicts") { db in
            try db.execute(sql: """
                CREATE TABLE verdict (
                    id INTEGER PRIMARY KEY,
                    hostId INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,
                    evaluatedAtMs INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    rateBytesPerHour REAL NOT NULL,
                    sinceMs INTEGER,
                    confidence REAL NOT NULL,
                    summary TEXT NOT NULL,
                    -- JSON array of {stackId, rateBytesPerHour, liveBytes}
                    sites TEXT NOT NULL
                );
                CREATE INDEX verdict_host_time ON verdict(hostId, evaluatedAtMs);
                """)
        }
        migrator.registerMigration("v2-stack-last-seen") { db in
            try db.execute(sql: """
                -- Upper bound of the times of everything that refers to the stack: sample and
                -- rollup sites (snapshot time, plus up to an hour of slack written ahead so that a
                -- steady stream of snapshots updates it once an hour) and verdicts (evaluation
                -- time). Retention deletes a stack whose lastSeenMs is older than all retained data.
                ALTER TABLE stack ADD COLUMN lastSeenMs INTEGER NOT NULL DEFAULT 0;
                -- Stacks stored before: referenced at most by the newest data there is.
                UPDATE stack SET lastSeenMs = max(firstSeenMs,
                    coalesce((SELECT max(timestampMs) FROM sample), 0),
                    coalesce((SELECT max(lastTimestampMs) FROM sampleRollup), 0),
                    coalesce((SELECT max(evaluatedAtMs) FROM verdict), 0));
                CREATE INDEX stack_lastSeen ON stack(lastSeenMs);
                -- Retention deletes verdicts by time and reads the oldest one.
                CREATE INDEX verdict_time ON verdict(evaluatedAtMs);
                """)
        }
        migrator.registerMigration("v3-agent-overhead-threshold") { db in
            try db.execute(sql: """
                -- Snapshot.overhead: the agent's own memory, apart from the app's.
                ALTER TABLE sample ADD COLUMN trackerBytes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE sample ADD COLUMN agentHeapBytes INTEGER NOT NULL DEFAULT 0;
                -- Event.threshold_bytes: the threshold a threshold event crossed (0 otherwise).
                ALTER TABLE event ADD COLUMN thresholdBytes INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v4-stack-digest-by-meaning") { db in
            try rekeyStacksByMeaning(db)
        }
        migrator.registerMigration("v5-sample-received-at") { db in
            try db.execute(sql: """
                -- The collector's clock when a snapshot arrived, beside the agent's timestampMs
                -- (which every computation uses): the agent clock's error is receivedAtMs - timestampMs
                -- for a snapshot sent at once. 0 for snapshots stored before this migration.
                ALTER TABLE sample ADD COLUMN receivedAtMs INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v6-memory-errors") { db in
            try db.execute(sql: """
                -- Memory-safety errors the agents' guarded pools caught (MEMORY_ERROR events). Stack
                -- columns hold stack row ids (NULL: no such stack); like the sites' ids in sample
                -- blobs they carry no foreign key: stack.lastSeenMs covers them for the collector
                -- of stacks, and retention deletes these rows with the hour tier's data, never sooner.
                CREATE TABLE memoryError (
                    id INTEGER PRIMARY KEY,
                    hostId INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,
                    instanceId INTEGER NOT NULL REFERENCES processInstance(id) ON DELETE CASCADE,
                    timestampMs INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    access TEXT NOT NULL,
                    faultAddress INTEGER NOT NULL,
                    blockOffset INTEGER NOT NULL,
                    blockSizeBytes INTEGER NOT NULL,
                    threadId INTEGER NOT NULL,
                    recovered INTEGER NOT NULL,
                    accessStackId INTEGER,
                    allocationStackId INTEGER,
                    freeStackId INTEGER
                );
                CREATE INDEX memoryError_host_time ON memoryError(hostId, timestampMs);
                CREATE INDEX memoryError_time ON memoryError(timestampMs);
                """)
        }
        return migrator
    }
}
