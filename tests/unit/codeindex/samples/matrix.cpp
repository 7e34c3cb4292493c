#include <vector>
#include "matrix.hpp"

namespace linalg {

class Matrix {
 public:
  Matrix(int rows, int cols) : rows_(rows), cols_(cols), data_(rows * cols) {}

  double at(int r, int c) const { return data_[r * cols_ + c]; }

 private:
  int rows_, cols_;
  std::vector<double> data_;
};

// Multiply two matrices.
Matrix multiply(const Matrix& a, const Matrix& b) {
  return Matrix(1, 1);
}

}  // namespace linalg

double linalg::Vector::norm() const {
  return 0.0;
}
