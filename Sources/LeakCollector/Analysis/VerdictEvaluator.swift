import Foundation
import LeakAnalysis
import LeakWire

/// The one place the collector calls the analysis engine: a host's stored window in, a
/// verdict record out.
public struct VerdictEvaluator: Sendable {
    let analyzer: LeakAnalyzer
    /// The collector's `analysisTimeScale`: explanations give durations as the analysis reads them
    /// (a demo's 30 s window at 360× is a 3 h window).
    let analysisTimeScale: Double

    static var defaultConfiguration: VerdictConfiguration { VerdictConfiguration() }

    public init(configuration: VerdictConfiguration = VerdictConfiguration(), analysisTimeScale: Double = 1) {
        self.analyzer = LeakAnalyzer(configuration: configuration)
        self.analysisTimeScale = analysisTimeScale
    }

    /// The verdict on a stored window alone (every point of it bucketed for this call).
    public var configuration: VerdictConfiguration { analyzer.configuration }

    /// How far back from its newest snapshot a verdict reads (window, confirmation and a bucket),
    /// in snapshot time.
    public var readSpanSeconds: Double { HostSeriesAccumulator.readSpanSeconds(configuration) }

    public func evaluate(_ window: HostWindow, evaluatedAtMs: Int64) -> VerdictRecord {
        var accumulator = HostSeriesAccumulator(configuration: analyzer.configuration)
        Self.append(window, to: &accumulator)
        return evaluate(accumulator.series, of: window, evaluatedAtMs: evaluatedAtMs)
    }

    /// The verdict on a host's kept buckets; `window` holds its newest points (the live bytes of
    /// the sites named).
    public func evaluate(_ series: HostSeries, of window: HostWindow, evaluatedAtMs: Int64) -> VerdictRecord {
        let verdict = analyzer.evaluate(series)
        let latestLive = window.sites.mapValues { $0.last?.liveBytes ?? 0 }
        let responsible = verdict.responsibleSites.map {
            VerdictSite(stackId: Int64(clamping: $0.siteID), status: $0.status.description, rateBytesPerHour: $0.rateBytesPerHour,
                        liveBytes: latestLive[Int64(clamping: $0.siteID)] ?? 0)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same verdict is stored as the same text
        let sitesJSON = (try? encoder.encode(responsible)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        let status = verdict.isInsufficientData ? VerdictRecord.notEnoughData : verdict.status.description
        return VerdictRecord(
            id: nil, hostId: window.host.id, evaluatedAtMs: evaluatedAtMs, status: status,
            rateBytesPerHour: verdict.rateBytesPerHour,
            sinceMs: verdict.sinceSeconds.map { Saturating.int64($0 * 1000) }, confidence: verdict.confidence,
            summary: VerdictExplanation.text(
                verdict, configuration: analyzer.configuration, durationScale: analysisTimeScale, growingSites: responsible.count),
            sites: sitesJSON)
    }

    /// Adds a stored window's points, as the analyzer reads them, to a host's buckets.
    static func append(_ window: HostWindow, to accumulator: inout HostSeriesAccumulator) {
        let points = window.points.map { point in
            HostPoint(
                timestampSeconds: Double(point.timestampMs) / 1000, heapBytes: UInt64(max(0, point.bytesInUse)),
                rssBytes: UInt64(max(0, point.residentBytes)), allocationCount: UInt64(max(0, point.allocationCount)),
                freeCount: UInt64(max(0, point.freeCount)), instanceID: window.instanceKeys[point.instanceId] ?? "\(point.instanceId)",
                // Only a finite positive uptime places the instance's start (rows stored before
                // validation may hold anything a REAL column can).
                uptimeSeconds: point.uptimeSeconds.isFinite && point.uptimeSeconds > 0 ? point.uptimeSeconds : nil)
        }
        var sites: [SiteID: [SitePoint]] = [:]
        for (stackId, series) in window.sites {
            sites[SiteID(stackId)] = series.map {
                SitePoint(timestampSeconds: Double($0.timestampMs) / 1000, liveBytesEstimate: UInt64(max(0, $0.liveBytes)))
            }
        }
        accumulator.append(points, sites: sites)
    }
}

extension VerdictRecord {
    public var decodedSites: [VerdictSite] {
        (try? JSONDecoder().decode([VerdictSite].self, from: Data(sites.utf8))) ?? []
    }
}
