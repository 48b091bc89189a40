// What every store entry assumes about where and when it was made, whoever made
// it: a build (src/build) or a binary cache admitting a signed entry (src/cache).
// Both must agree bit for bit, so the constants live here, below both.

/**
 * The fixed layout inside a full sandbox, whatever the real paths are: the build
 * folder at /build and each dependency at /store/<entry>. Outputs then carry no
 * trace of the user's store location, and builds on two machines can match.
 */
export const INSIDE = {
  build: '/build',
  store: '/store',
} as const;

/** SOURCE_DATE_EPOCH: 1980-01-01, the earliest time zip can store; every entry's file times. */
export const SOURCE_DATE_EPOCH = 315532800;
