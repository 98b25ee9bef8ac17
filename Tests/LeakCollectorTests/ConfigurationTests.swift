import Foundation
import LeakCollector
import LeakTestSupport
import Testing

@Suite struct ConfigurationTests {
    @Test func exampleFileParsesAndFlagsOverrideIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try "  s3cret-token \n".write(toFile: directory.path + "/token", atomically: true, encoding: .utf8)
        try """
            {"listen": "127.0.0.1:9000", "dataDirectory": "data", "tokenFile": "token",
             "rawRetentionHours": 24, "maximumInflateRatio": 100, "verdictWindowHours": 12}
            """.write(toFile: directory.path + "/collector.json", atomically: true, encoding: .utf8)
        var configuration = CollectorConfiguration()
        try configuration.apply(configurationFile: directory.path + "/collector.json")
        #expect(configuration.listenHost == "127.0.0.1")
        #expect(configuration.listenPort == 9000)
        #expect(configuration.dataDirectory == directory.path + "/data")  // relative to the file
        #expect(configuration.token == Array("s3cret-token".utf8))
        #expect(configuration.store.rawRetentionSeconds == 24 * 3600)
        #expect(configuration.wireLimits.maximumInflateRatio == 100)
        #expect(configuration.verdictWindowSeconds == 12 * 3600)
        try configuration.setListen("[::1]:7071")
        #expect(configuration.listenHost == "::1")
        #expect(configuration.listenPort == 7071)
        try configuration.validate()
    }

    @Test func theShippedExampleIsValid() throws {
        // Tests run from the package root.
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("collector/collector.example.json").path
        var configuration = CollectorConfiguration()
        // The example names /etc/leakwatch/token, absent here: everything before it must parse.
        #expect(throws: ConfigurationError.self) { try configuration.apply(configurationFile: path) }
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"tokenFile\": \"/etc/leakwatch/token\",", with: "")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try text.write(toFile: directory.path + "/example.json", atomically: true, encoding: .utf8)
        try configuration.apply(configurationFile: directory.path + "/example.json")
        #expect(configuration.listenPort == 7070)
        #expect(configuration.store.rawRetentionSeconds == 48 * 3600)
    }

    @Test func metricsAndAlertHookFromTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let hook = directory.path + "/hook.sh"
        try "#!/bin/sh\n".write(toFile: hook, atomically: true, encoding: .utf8)
        try """
            {"metricsListen": "127.0.0.1:9464", "alertCommand": "hook.sh", "alertTimeoutSeconds": 3,
             "alertQueueCapacity": 5, "reportCommand": "collector-cli --collector lw:7070", "insecureNoAuthentication": true}
            """.write(toFile: directory.path + "/c.json", atomically: true, encoding: .utf8)
        var configuration = CollectorConfiguration()
        try configuration.apply(configurationFile: directory.path + "/c.json")
        #expect(configuration.metricsListen == "127.0.0.1:9464")
        #expect(configuration.alerts.command == hook)
        #expect(configuration.alerts.timeoutSeconds == 3)
        #expect(configuration.alerts.queueCapacity == 5)
        #expect(configuration.alerts.reportCommand == "collector-cli --collector lw:7070")
        // Not executable yet: refused, naming what to do.
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        try configuration.validate()
        configuration.metricsListen = "9464"
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    @Test func badValuesSayWhatToDo() {
        var configuration = CollectorConfiguration()
        #expect(throws: ConfigurationError.self) { try configuration.setListen("7070") }
        #expect(throws: ConfigurationError.self) { try configuration.loadToken(fromFile: "/nonexistent/token") }
        #expect(throws: ConfigurationError.self) { try configuration.apply(configurationFile: "/nonexistent.json") }
    }
}
