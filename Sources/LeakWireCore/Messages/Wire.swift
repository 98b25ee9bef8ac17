/// The messages of leakwatch.proto that an agent sends (Hello, Authenticate, Snapshot and what it
/// holds) and receives (Challenge, Welcome, Ack, Error), as plain structs encoded by hand
/// (`ProtobufWriter`, `ProtobufReader`).
///
/// Why not SwiftProtobuf's generated types, which LeakWire has for every message: they import
/// Foundation, and the agent must not load it (8 MB resident in every process it is preloaded
/// into, measured with /proc/PID/smaps). Names, field numbers and types follow the schema exactly;
/// LeakWireTests check that both encodings agree byte for byte.
public enum Wire {}
