/// A dense row-major matrix, for analysis results and tests. Kernels work on
/// pointers into flat buffers instead.
public struct Matrix<T: Scalar>: Equatable, Sendable {
    public var rows: Int
    public var columns: Int
    public var storage: [T]

    public init(rows: Int, columns: Int, repeating value: T = 0) {
        precondition(rows >= 0 && columns >= 0)
        self.rows = rows
        self.columns = columns
        storage = Array(repeating: value, count: rows * columns)
    }

    public init(rows: Int, columns: Int, storage: [T]) {
        precondition(storage.count == rows * columns)
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    @inlinable
    public subscript(row: Int, column: Int) -> T {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }
}
