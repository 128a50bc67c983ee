// The object browser's S3 client and its credentials: minted by the admin for the logged-in
// user, cached in TanStack Query and minted again five minutes before they expire (a long
// upload asks again between parts, so it outlives one set of credentials).
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { mintS3Credentials } from "../../api/endpoints";
import { browserEndpoint, S3Client, type S3Access } from "../../api/s3";
import type { S3Credentials } from "../../api/types";

/** How long the console's credentials last, and how long before the end new ones are minted. */
export const CREDENTIALS_SECONDS = 3600;
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

const credentialsQuery = {
  queryKey: ["s3-credentials"],
  queryFn: () => mintS3Credentials(CREDENTIALS_SECONDS),
  staleTime: (query: { state: { data?: S3Credentials } }) => {
    const expiresAt = query.state.data?.expiresAt;
    return expiresAt ? Math.max(0, expiresAt * 1000 - Date.now() - REFRESH_MARGIN_MS) : 0;
  },
  retry: false,
} as const;

/** What the admin's answer lacks for a browser to call S3 with it (or null if nothing). */
export function accessOf(credentials: S3Credentials, pageHostname: string): S3Access {
  if (!credentials.endpoint) {
    throw new Error("the admin does not know the S3 endpoint (maxiofs admin --s3-endpoint)");
  }
  return { ...credentials, endpoint: browserEndpoint(credentials.endpoint, pageHostname) };
}

export async function currentAccess(queryClient: QueryClient): Promise<S3Access> {
  const credentials = await queryClient.fetchQuery(credentialsQuery);
  return accessOf(credentials, window.location.hostname);
}

/** The client (stable for the page's life) and the first minting's state, for the page to
 * show "cannot browse" before any S3 call. */
export function useS3() {
  const queryClient = useQueryClient();
  const credentials = useQuery({
    ...credentialsQuery,
    refetchInterval: (CREDENTIALS_SECONDS * 1000) / 2,
  });
  const client = useMemo(() => new S3Client(() => currentAccess(queryClient)), [queryClient]);
  return { client, credentials };
}
