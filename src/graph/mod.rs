//! ONNX graph surgery on the protobuf bytes, without a schema or the `onnx` package: cutting a
//! model into parts (a Piper voice's front and decoder, the wake word embedding's streaming
//! stages) and rewriting nodes (8-bit convolution weights). Pure: bytes in, bytes out.

mod cut;
pub mod proto;

pub use cut::{CutError, Graph};
