//! Event scripts, traces and the seqrec tool.
