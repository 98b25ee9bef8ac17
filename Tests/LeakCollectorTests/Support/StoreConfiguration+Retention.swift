import LeakCollector

extension StoreConfiguration {
    /// The default configuration with the retention times a test states (the default for any left out).
    init(rawRetentionSeconds: Int64, minuteRetentionSeconds: Int64? = nil, hourRetentionSeconds: Int64? = nil) {
        self.init()
        self.rawRetentionSeconds = rawRetentionSeconds
        if let minuteRetentionSeconds { self.minuteRetentionSeconds = minuteRetentionSeconds }
        if let hourRetentionSeconds { self.hourRetentionSeconds = hourRetentionSeconds }
    }
}
