import { CompareFacesCommand, RekognitionClient } from "@aws-sdk/client-rekognition";
import { AWS_INLINE_IMAGE_MAX_BYTES, fitWithin, ImageError } from "./images";
import { type AwsClientOptions, awsClientConfig, fromAwsError, ProviderError } from "./kyc-types";

/**
 * AWS Rekognition CompareFaces through the real SDK client (INTEGRATIONS.md §5): the selfie is the source
 * (its largest face), the ID front the target.
 *
 * - SimilarityThreshold 0: Rekognition drops matches under the threshold, and a dropped match looks the
 *   same as "no such face"; asking for everything gives us the score, and the caller applies its own
 *   threshold (config, default 90) and sends the doubtful ones to review.
 * - QualityFilter NONE: the target is a small printed portrait on a card, often with glare; AUTO filters
 *   such faces out before comparing, which turns a genuine card into "no match" with no score to review.
 *   Quality is judged by the threshold and, below it, by a person (as AWS advises for decisions about people).
 */

export type FaceComparison =
  | {
      outcome: "compared";
      /** The best match's similarity (0–100); null when the target holds faces but none matched. */
      similarity: number | null;
      /** How sure Rekognition is that the selfie's largest face is a face (0–100). */
      sourceFaceConfidence: number | null;
      /** Faces in the ID image that did not match (an ID's small "ghost" portrait may land here). */
      unmatchedFaces: number;
      /** Either image had to be re-encoded to fit the 5 MB limit. */
      downscaled: boolean;
      requestId?: string;
    }
  | {
      /** Rekognition found no face in the selfie or in the ID (its InvalidParameterException). */
      outcome: "no_face";
      similarity: null;
      sourceFaceConfidence: null;
      unmatchedFaces: 0;
      downscaled: boolean;
      requestId?: string;
    };

export interface FaceMatcher {
  /** Throws ProviderError for everything but "no face". */
  compare(
    images: { selfie: Uint8Array; idFront: Uint8Array },
    options?: { signal?: AbortSignal },
  ): Promise<FaceComparison>;
}

async function fitted(bytes: Uint8Array): Promise<Uint8Array> {
  try {
    return await fitWithin(bytes, AWS_INLINE_IMAGE_MAX_BYTES);
  } catch (error) {
    if (error instanceof ImageError) throw new ProviderError("rekognition", "unreadable", error.message);
    throw error;
  }
}

export function createFaceMatcher(
  options: AwsClientOptions,
): FaceMatcher & { client: RekognitionClient; close(): void } {
  const client = new RekognitionClient(awsClientConfig("rekognition", options));
  const logger = options.logger;
  return {
    client,
    close: () => client.destroy(),
    async compare({ selfie, idFront }, callOptions = {}) {
      const started = performance.now();
      let downscaled = false;
      try {
        const [source, target] = await Promise.all([fitted(selfie), fitted(idFront)]);
        downscaled = source !== selfie || target !== idFront;
        const output = await client.send(
          new CompareFacesCommand({
            SourceImage: { Bytes: source },
            TargetImage: { Bytes: target },
            SimilarityThreshold: 0,
            QualityFilter: "NONE",
          }),
          callOptions.signal ? { abortSignal: callOptions.signal } : {},
        );
        const scores = (output.FaceMatches ?? []).flatMap((m) =>
          typeof m.Similarity === "number" ? [m.Similarity] : [],
        );
        const result: FaceComparison = {
          outcome: "compared",
          similarity: scores.length ? Math.max(...scores) : null,
          sourceFaceConfidence: output.SourceImageFace?.Confidence ?? null,
          unmatchedFaces: output.UnmatchedFaces?.length ?? 0,
          downscaled,
          ...(output.$metadata.requestId ? { requestId: output.$metadata.requestId } : {}),
        };
        logger?.debug(
          {
            provider: "rekognition",
            matches: scores.length,
            unmatchedFaces: result.unmatchedFaces,
            downscaled,
            requestId: result.requestId,
            ms: Math.round(performance.now() - started),
          },
          "kyc face compare",
        );
        return result;
      } catch (error) {
        const failure = fromAwsError("rekognition", error);
        if (failure.details.code === "InvalidParameterException") {
          logger?.debug(
            { provider: "rekognition", outcome: "no_face", requestId: failure.details.requestId },
            "kyc face compare",
          );
          return {
            outcome: "no_face",
            similarity: null,
            sourceFaceConfidence: null,
            unmatchedFaces: 0,
            downscaled,
            ...(failure.details.requestId ? { requestId: failure.details.requestId } : {}),
          };
        }
        logger?.warn(
          {
            provider: "rekognition",
            kind: failure.kind,
            ...failure.details,
            ms: Math.round(performance.now() - started),
          },
          "kyc face compare failed",
        );
        throw failure;
      }
    },
  };
}
