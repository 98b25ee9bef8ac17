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

    @Test func tlsFilesComeFromTheFileOrFlagsAndAreCheckedAtStart() async throws {
        let certificates = try await TestCertificates.make(clientHosts: ["web-1"])
        defer { certificates.remove() }
        let directory = certificates.directory
        try """
            {"tlsCertificateFile": "server.pem", "tlsKeyFile": "server.key", "tlsClientCAFile": "ca.pem"}
            """.write(toFile: directory.path + "/collector.json", atomically: true, encoding: .utf8)
        var file = CollectorConfiguration()
        try file.apply(configurationFile: directory.path + "/collector.json")
        #expect(file.tls == CollectorTLSConfiguration(
            certificateChainFile: certificates.server.certificate, privateKeyFile: certificates.server.key,
            clientCAFile: certificates.certificateAuthority), "relative to the file's directory")
        #expect(file.tls?.isMutual == true)

        // Mutual TLS may stand in for the token; a certificate needs its key.
        try file.validate()
        var configuration = CollectorConfiguration()
        configuration.token = Array("t".utf8)
        var keyless = CollectorConfiguration()
        keyless.token = configuration.token
        try keyless.setTLS(certificateFile: certificates.server.certificate, keyFile: nil, clientCAFile: nil)
        #expect(throws: ConfigurationError.self) { try keyless.validate() }

        // Files are read when the collector is built: a wrong key names both files.
        var mismatched = configuration
        mismatched.dataDirectory = directory.path + "/data"
        try mismatched.setTLS(certificateFile: certificates.server.certificate, keyFile: certificates.client("web-1").key,
                              clientCAFile: nil)
        let error = try #require(throws: ConfigurationError.self) { _ = try buildCollector(mismatched, handleSignals: false) }
        #expect(error.description.contains("cannot be used together"), "\(error)")
        var missing = mismatched
        try missing.setTLS(certificateFile: nil, keyFile: certificates.server.key, clientCAFile: "/nonexistent/ca.pem")
        let missingError = try #require(throws: ConfigurationError.self) { _ = try buildCollector(missing, handleSignals: false) }
        #expect(missingError.description.contains("/nonexistent/ca.pem") && missingError.description.contains("--tls-client-ca"),
                "\(missingError)")
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
