// What LeakWire adds is written over LeakWireCore's frames, connection and errors: re-exported so
// the collector and the cli need one import.
@_exported import LeakWireCore
