import { useQueryClient } from "@tanstack/react-query";

/** After a write, everything shown may have changed (a freeze changes the user, the list, the audit log). */
export function useRefreshAll() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries();
}
