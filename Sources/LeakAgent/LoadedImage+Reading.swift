import CLeakTrackAPI
import LeakSymbolication
#if canImport(Glibc)
import Glibc
#endif

extension LoadedImage {
    /// Every loaded object with code and a file behind it (the vDSO has none), by address, as the
    /// dynamic loader lists them.
    static func read() -> [LoadedImage] {
        var records = [lt_image](repeating: lt_image(), count: 64)
        while true {
            let total = Int(records.withUnsafeMutableBufferPointer { lt_read_images($0.baseAddress, Int32($0.count)) })
            if total <= records.count {
                let images = records.prefix(total).compactMap { LoadedImage(record: $0) }
                return images.sorted { $0.mappedStart < $1.mappedStart }
            }
            records = [lt_image](repeating: lt_image(), count: total + 16) // loaded since the count
        }
    }

    private init?(record: lt_image) {
        let loaderPath = record.path.map { String(cString: $0) } ?? ""
        guard let path = loaderPath.isEmpty ? Self.executablePath() : Self.absolutePath(loaderPath), path.hasPrefix("/") else {
            return nil
        }
        var record = record
        let buildID = withUnsafeBytes(of: &record.build_id) { Array($0.prefix(Int(record.build_id_size))) }
        self.init(path: path, loadBias: record.load_bias, mappedStart: record.mapped_start,
                  endOfText: record.text_end, buildID: buildID)
    }

    /// The loader keeps the name dlopen was given ("./plugin.so"): the file from the working
    /// directory of now, which is the one dlopen saw unless the program has moved since.
    private static func absolutePath(_ loaderPath: String) -> String? {
        if loaderPath.hasPrefix("/") { return loaderPath }
        guard let resolved = realpath(loaderPath, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension ProcessImages {
    static func read() -> ProcessImages { ProcessImages(images: LoadedImage.read()) }
}
