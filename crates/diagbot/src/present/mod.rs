//! What every front end shows, before it is put in a medium.

#[cfg(test)]
pub(crate) mod fixture;
