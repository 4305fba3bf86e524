//! Little-endian writer and bounds-checked reader for the canonical accumulator encoding.

use super::KpiError;

#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u128(&mut self, v: u128) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A length prefix. Lengths in this format never exceed `u32::MAX` in practice; a longer one
    /// is written saturated and then fails to decode rather than being silently cut.
    pub(crate) fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.len(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }
}

#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], KpiError> {
        let rest = self.data.len() - self.pos;
        if rest < n {
            return Err(KpiError::Truncated {
                offset: self.pos,
                needed: n - rest,
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], KpiError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, KpiError> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, KpiError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, KpiError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn i32(&mut self) -> Result<i32, KpiError> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, KpiError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub(crate) fn u128(&mut self) -> Result<u128, KpiError> {
        Ok(u128::from_le_bytes(self.array()?))
    }
    /// A length prefix, checked against the bytes left assuming each item takes at least
    /// `min_item` bytes, so a corrupt length cannot trigger a huge allocation.
    pub(crate) fn len(&mut self, min_item: usize) -> Result<usize, KpiError> {
        let n = self.u32()? as usize;
        let rest = self.data.len() - self.pos;
        if n.saturating_mul(min_item.max(1)) > rest {
            return Err(KpiError::Truncated {
                offset: self.pos,
                needed: n.saturating_mul(min_item.max(1)) - rest,
            });
        }
        Ok(n)
    }
    pub(crate) fn str(&mut self) -> Result<&'a str, KpiError> {
        let n = self.len(1)?;
        let at = self.pos;
        let b = self.take(n)?;
        core::str::from_utf8(b).map_err(|_| KpiError::Corrupt {
            offset: at,
            reason: "text is not utf-8",
        })
    }
    pub(crate) fn corrupt(&self, reason: &'static str) -> KpiError {
        KpiError::Corrupt {
            offset: self.pos,
            reason,
        }
    }
    pub(crate) fn finish(&self) -> Result<(), KpiError> {
        if self.pos != self.data.len() {
            return Err(self.corrupt("trailing bytes after the encoding"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut w = Writer::default();
        w.u8(1);
        w.u16(2);
        w.u32(3);
        w.i32(-4);
        w.u64(5);
        w.u128(6);
        w.str("tag");
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(2));
        assert_eq!(r.u32(), Ok(3));
        assert_eq!(r.i32(), Ok(-4));
        assert_eq!(r.u64(), Ok(5));
        assert_eq!(r.u128(), Ok(6));
        assert_eq!(r.str(), Ok("tag"));
        assert_eq!(r.finish(), Ok(()));
        let mut r = Reader::new(&w.buf[..2]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(
            r.u16(),
            Err(KpiError::Truncated {
                offset: 1,
                needed: 1
            })
        );
    }
}
