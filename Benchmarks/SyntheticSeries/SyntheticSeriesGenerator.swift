import LeakAnalysis
import LeakTestSupport

/// Deterministic generator of labelled host series (10-second snapshots, 1–3 days) with per-site
/// series, for evaluating the verdicts. Everything is drawn from `SplitMix64(seed)` mixed with the
/// kind, so a (kind, seed) pair always gives the same series.
///
/// Model: heap = base + Σ components + slow wander (AR(1), hours) + white noise + transient
/// sawtooth. Four sampled sites hold parts of the base and the components; a site's reported live
/// bytes carry sampling noise of standard deviation √(bytes · 512 KiB). Traffic (allocations per
/// second) drives the allocation counter; daily kinds make memory follow traffic, possibly hours
/// later and not quite linearly.
public enum SyntheticSeriesGenerator {
    public static let intervalSeconds = 10.0
    static let hour = 3600.0
    static let day = 86400.0

    public static func make(kind: SeriesKind, seed: UInt64) -> LabelledSeries {
        let kindSalt = UInt64(SeriesKind.allCases.firstIndex(of: kind)! + 1) &* 0x1000_0000_01B3
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9 ^ kindSalt)
        var spec = Spec(rng: &rng, kind: kind)
        return spec.generate(seed: seed)
    }

    /// Sites and series parameters drawn once per series.
    struct Spec {
        var rng: SplitMix64
        let kind: SeriesKind
        var durationSeconds: Double
        var startSeconds: Double
        var baseBytes: Double
        var siteIDs: [SiteID]
        var siteShares: [Double] = [0.2, 0.12, 0.08, 0.05]
        var whiteNoiseFraction: Double
        var wanderFraction: Double
        var wanderSeconds: Double
        var preUptimeSeconds: Double
        var warmUpFraction: Double
        var warmUpSeconds: Double
        var restartIntervals: [Double] = []  // instance start offsets (seconds from series start)
        var gaps: [(Double, Double)] = []
        var trafficBase: Double
        var trafficAmplitude = 0.0
        var cyclePhase = 0.0
        var memoryCycleFraction = 0.0
        var memoryLagSeconds = 0.0
        var memoryExponent = 1.0
        var leakStart: Double? = nil
        var leakSite = 0
        var components: [(site: Int?, value: (Double, Double) -> Double)] = []  // (t, uptime) -> bytes
        var sawtoothFraction = 0.0
        var sawtoothPeriod = 600.0

        init(rng: inout SplitMix64, kind: SeriesKind) {
            self.kind = kind
            durationSeconds = rng.uniform(24, 72) * SyntheticSeriesGenerator.hour
            startSeconds = (1_700_000_000 + rng.uniform(0, 30 * 86400)).rounded()
            baseBytes = rng.logUniform(200e6, 4e9)
            siteIDs = (0..<4).map { _ in rng.next() | 1 }
            whiteNoiseFraction = rng.uniform(0.003, 0.015)
            wanderFraction = rng.uniform(0.001, 0.004)
            wanderSeconds = rng.uniform(0.5, 3) * SyntheticSeriesGenerator.hour
            preUptimeSeconds = 0
            warmUpFraction = rng.uniform(0, 0.1)
            warmUpSeconds = rng.uniform(0.1, 0.5) * SyntheticSeriesGenerator.hour
            trafficBase = rng.logUniform(1e3, 1e5)
            leakSite = rng.index(4)
            self.rng = rng
        }

        mutating func configureKind() {
            let hour = SyntheticSeriesGenerator.hour
            let base = baseBytes
            switch kind {
            case .warmUpPlateau:
                warmUpFraction = rng.uniform(0.2, 1.0)
                warmUpSeconds = rng.uniform(0.15, 1.2) * hour
            case .cacheFillToCap:
                let cap = rng.uniform(0.1, 0.5) * base
                let begin = rng.uniform(0, 0.5) * hour
                let site = rng.index(4)
                if rng.chance(0.5) {
                    let fill = rng.uniform(0.5, 2.5) * hour
                    components.append((site, { _, u in cap * min(max((u - begin) / fill, 0), 1) }))
                } else {
                    let tau = rng.uniform(0.2, 1.0) * hour
                    components.append((site, { _, u in u < begin ? 0 : cap * (1 - Math.exp(-(u - begin) / tau)) }))
                }
            case .sawtooth:
                longRunning()
                sawtoothFraction = rng.uniform(0.05, 0.3)
                sawtoothPeriod = rng.uniform(2, 50) * 60
                if rng.chance(0.5) {
                    let every = rng.uniform(2, 8) * hour
                    let length = rng.uniform(5, 45) * 60
                    let size = rng.uniform(0.1, 0.6) * base
                    let offset = rng.uniform(0, every)
                    components.append((rng.index(4), { t, _ in
                        let phase = (t + offset).truncatingRemainder(dividingBy: every)
                        return phase < length ? size : 0
                    }))
                }
            case .dailyCycle, .dailyCycleLagged:
                longRunning()
                dailyCycle(lagged: kind == .dailyCycleLagged)
            case .oneOffStep:
                longRunning()
                let at = rng.uniform(2 * hour, durationSeconds - 6 * hour)
                let size = rng.uniform(0.03, 0.3) * base
                components.append((rng.chance(0.5) ? rng.index(4) : nil, { t, _ in t >= at ? size : 0 }))
            case .noisyFlat:
                longRunning()
                whiteNoiseFraction = rng.uniform(0.01, 0.04)
                wanderFraction = rng.uniform(0.003, 0.008)
                wanderSeconds = rng.uniform(1, 6) * hour
            case .restarts:
                restartSchedule(low: 3 * hour, high: 14 * hour)
                warmUpFraction = rng.uniform(0.1, 0.5)
                warmUpSeconds = rng.uniform(0.1, 0.7) * hour
            case .reportingGaps:
                if rng.chance(0.5) { longRunning() }
                let count = 1 + rng.index(3)
                for _ in 0..<count {
                    let begin = rng.uniform(2 * hour, durationSeconds - 2 * hour)
                    gaps.append((begin, begin + rng.uniform(0.5, 8) * hour))
                }
            case .slowLeak:
                whiteNoiseFraction = rng.uniform(0.005, 0.02)
                leak(from: 0, ratePerHour: rng.uniform(0.002, 0.004))
            case .lateLeak:
                longRunning()
                durationSeconds = max(durationSeconds, 36 * hour)
                leak(from: rng.uniform(4, min(30, durationSeconds / hour - 18)) * hour, ratePerHour: rng.uniform(0.003, 0.02))
            case .stepwiseLeak:
                longRunning()
                let from = rng.uniform(0, 20) * hour
                durationSeconds = max(durationSeconds, from + 18 * hour)
                leakStart = from
                let interval = rng.uniform(0.5, 3) * hour
                let size = rng.uniform(0.003, 0.02) * base
                var steps: [Double] = []
                var at = from
                while at < durationSeconds {
                    steps.append(at)
                    at += interval * rng.uniform(0.5, 1.5)
                }
                components.append((leakSite, { t, _ in
                    var count = 0.0
                    for step in steps where step <= t { count += 1 }
                    return count * size
                }))
            case .leakOnDailyCycle:
                longRunning()
                dailyCycle(lagged: rng.chance(0.5))
                let from = rng.uniform(0, 30) * hour
                durationSeconds = max(durationSeconds, from + 18 * hour)
                leak(from: from, ratePerHour: rng.uniform(0.003, 0.015))
            case .restartResetLeak:
                restartSchedule(low: 4 * hour, high: 12 * hour)
                let rate = rng.uniform(0.005, 0.03) * base / hour
                leakStart = 0
                components.append((leakSite, { _, u in rate * u }))
            case .maskedSiteLeak:
                if rng.chance(0.5) { longRunning() }
                let from = rng.uniform(0, 12) * hour
                durationSeconds = max(durationSeconds, from + 18 * hour)
                let rate = rng.uniform(0.003, 0.012) * base / hour
                leakStart = from
                var shrinking = rng.index(4)
                if shrinking == leakSite { shrinking = (shrinking + 1) % 4 }
                let pool = rate * (durationSeconds - from) + 0.05 * base
                components.append((leakSite, { t, _ in t > from ? rate * (t - from) : 0 }))
                components.append((shrinking, { t, _ in pool - (t > from ? rate * (t - from) : 0) }))
            }
        }

        /// The process has been running for days before the series starts: no warm-up.
        mutating func longRunning() {
            if rng.chance(0.5) {
                preUptimeSeconds = rng.uniform(1, 10) * SyntheticSeriesGenerator.day
                warmUpFraction = 0
            }
        }

        mutating func dailyCycle(lagged: Bool) {
            trafficAmplitude = rng.uniform(0.3, 0.8)
            cyclePhase = rng.uniform(0, SyntheticSeriesGenerator.day)
            memoryCycleFraction = rng.uniform(0.05, 0.25)
            memoryLagSeconds = lagged ? rng.uniform(1, 6) * SyntheticSeriesGenerator.hour : 0
            memoryExponent = rng.uniform(0.8, 1.2)
            let site = rng.index(4)
            let amplitude = trafficAmplitude
            let phase = cyclePhase
            let lag = memoryLagSeconds
            let exponent = memoryExponent
            let size = memoryCycleFraction * baseBytes / amplitude
            // Memory follows (traffic(t − lag))^exponent, half of it at one site.
            let follow: (Double, Double) -> Double = { t, _ in
                let traffic = 1 + amplitude * Math.sin(2 * Double.pi * (t - lag + phase) / SyntheticSeriesGenerator.day)
                return size * (Self.power(traffic, exponent) - 1 + amplitude)
            }
            components.append((site, { t, u in 0.5 * follow(t, u) }))
            components.append((nil, { t, u in 0.5 * follow(t, u) }))
        }

        mutating func restartSchedule(low: Double, high: Double) {
            var at = 0.0
            while at < durationSeconds {
                restartIntervals.append(at)
                at += rng.uniform(low, high)
            }
        }

        mutating func leak(from: Double, ratePerHour: Double) {
            leakStart = from
            let rate = ratePerHour * baseBytes / SyntheticSeriesGenerator.hour
            components.append((leakSite, { t, _ in t > from ? rate * (t - from) : 0 }))
        }

        static func power(_ x: Double, _ y: Double) -> Double { Math.exp(y * Math.log(max(x, 1e-9))) }

        mutating func generate(seed: UInt64) -> LabelledSeries {
            configureKind()
            if restartIntervals.isEmpty { restartIntervals = [0] }
            let interval = SyntheticSeriesGenerator.intervalSeconds
            let count = Int(durationSeconds / interval)
            var points: [HostPoint] = []
            points.reserveCapacity(count)
            var sitePoints: [[SitePoint]] = Array(repeating: [], count: 4)
            let wanderDecay = Math.exp(-interval / wanderSeconds)
            let wanderInnovation = wanderFraction * baseBytes * (1 - wanderDecay * wanderDecay).squareRoot()
            var wander = rng.normal() * wanderFraction * baseBytes
            let siteDecay = Math.exp(-interval / 600)
            var siteNoise = [Double](repeating: 0, count: 4)
            var allocations = 0.0
            var instance = 0
            var sawtoothOffset = rng.uniform(0, sawtoothPeriod)
            for step in 0..<count {
                let t = Double(step) * interval
                while instance + 1 < restartIntervals.count && restartIntervals[instance + 1] <= t {
                    instance += 1
                    allocations = 0
                    sawtoothOffset = rng.uniform(0, sawtoothPeriod)
                }
                let instanceStart = restartIntervals[instance]
                let uptime = t - instanceStart + (instance == 0 ? preUptimeSeconds : 0)
                wander = wanderDecay * wander + wanderInnovation * rng.normal()
                let traffic =
                    trafficBase * (1 + trafficAmplitude * Math.sin(2 * Double.pi * (t + cyclePhase) / SyntheticSeriesGenerator.day))
                    * (1 + 0.05 * rng.normal())
                allocations += max(traffic, 0) * interval
                let warm = warmUpFraction * baseBytes * (1 - Math.exp(-uptime / warmUpSeconds))
                var siteValues = siteShares.map { $0 * baseBytes }
                var unsampled = baseBytes * (1 - siteShares.reduce(0, +)) + warm
                for component in components {
                    let value = component.value(t, uptime)
                    if let site = component.site { siteValues[site] += value } else { unsampled += value }
                }
                var transient = 0.0
                if sawtoothFraction > 0 {
                    let phase = (t - instanceStart + sawtoothOffset).truncatingRemainder(dividingBy: sawtoothPeriod)
                    transient = sawtoothFraction * baseBytes * phase / sawtoothPeriod
                }
                let heap = unsampled + siteValues.reduce(0, +) + wander + transient
                    + whiteNoiseFraction * baseBytes * rng.normal()
                let jitter = rng.uniform(-1, 1)
                let inGap = gaps.contains { t >= $0.0 && t < $0.1 }
                if inGap { continue }
                let timestamp = startSeconds + t + jitter
                let heapBytes = UInt64(max(heap, 1e6))
                points.append(
                    HostPoint(
                        timestampSeconds: timestamp, heapBytes: heapBytes, rssBytes: UInt64(Double(heapBytes) * 1.25 + 40e6),
                        allocationCount: UInt64(allocations), freeCount: UInt64(max(0, allocations - Double(heapBytes) / 256)),
                        instanceID: "i-\(seed)-\(instance)", uptimeSeconds: uptime))
                for site in 0..<4 {
                    let live = max(siteValues[site], 0)
                    let sd = (live * 524_288).squareRoot()
                    siteNoise[site] = siteDecay * siteNoise[site] + sd * (1 - siteDecay * siteDecay).squareRoot() * rng.normal()
                    sitePoints[site].append(
                        SitePoint(timestampSeconds: timestamp, liveBytesEstimate: UInt64(max(live + siteNoise[site], 0))))
                }
            }
            var sites: [SiteID: [SitePoint]] = [:]
            for site in 0..<4 { sites[siteIDs[site]] = sitePoints[site] }
            var leaking: Set<SiteID> = []
            if leakStart != nil { leaking.insert(siteIDs[leakSite]) }
            return LabelledSeries(
                kind: kind, seed: seed, points: points, sites: sites, startSeconds: startSeconds,
                endSeconds: startSeconds + durationSeconds, leakStartSeconds: leakStart.map { startSeconds + $0 },
                leakingSites: leaking)
        }
    }
}
