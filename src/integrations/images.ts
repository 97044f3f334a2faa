import sharp from "sharp";

/** Rekognition's and Textract's limit on image bytes sent inline (INTEGRATIONS.md §5). */
export const AWS_INLINE_IMAGE_MAX_BYTES = 5_242_880;

/** Rekognition refuses faces in images under 80 px on a side; shrinking below that can only turn a match into "no face". */
const MIN_SIDE_PX = 80;

/** Never try to keep more than this on the long side: faces and ID text need far less, and bigger costs memory. */
const MAX_LONG_SIDE_PX = 4096;

/** Each round: the long side (as a fraction of the last) and the JPEG quality. */
const ROUNDS: ReadonlyArray<{ scale: number; quality: number }> = [
  { scale: 1, quality: 85 },
  { scale: 0.8, quality: 80 },
  { scale: 0.75, quality: 75 },
  { scale: 0.75, quality: 70 },
  { scale: 0.7, quality: 65 },
  { scale: 0.7, quality: 60 },
  { scale: 0.6, quality: 60 },
  { scale: 0.5, quality: 60 },
];

export class ImageError extends Error {
  override name = "ImageError";
}

export type ImageFormat = "jpeg" | "png" | "pdf";

/** The format the first bytes prove, or null. */
export function imageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes[0] === 0x25 && bytes[1] === 0x50 && bytes[2] === 0x44 && bytes[3] === 0x46) return "pdf";
  return null;
}

const asBytes = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

/**
 * The image itself when it already fits in `maxBytes`; otherwise a JPEG re-encode, smaller and at lower
 * quality each round until it fits. The re-encode applies the EXIF orientation (a sideways selfie would
 * compare worse) and drops the metadata (GPS and the like have no business at a provider).
 * Throws ImageError when the bytes are not a decodable image or cannot be brought under the limit.
 */
export async function fitWithin(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (bytes.byteLength <= maxBytes) return bytes;
  let width: number;
  let height: number;
  try {
    const meta = await sharp(bytes).metadata();
    width = meta.autoOrient?.width ?? meta.width;
    height = meta.autoOrient?.height ?? meta.height;
  } catch {
    throw new ImageError("not a decodable image");
  }
  if (!width || !height) throw new ImageError("not a decodable image");
  let longSide = Math.min(Math.max(width, height), MAX_LONG_SIDE_PX);
  for (const round of ROUNDS) {
    longSide = Math.round(longSide * round.scale);
    if (Math.round((longSide * Math.min(width, height)) / Math.max(width, height)) < MIN_SIDE_PX) break;
    let out: Buffer;
    try {
      out = await sharp(bytes)
        .rotate()
        .resize({ width: longSide, height: longSide, fit: "inside", withoutEnlargement: true })
        .jpeg({ quality: round.quality })
        .toBuffer();
    } catch {
      throw new ImageError("image could not be re-encoded");
    }
    if (out.byteLength <= maxBytes) return asBytes(out);
  }
  throw new ImageError(`image could not be brought under ${maxBytes} bytes`);
}
