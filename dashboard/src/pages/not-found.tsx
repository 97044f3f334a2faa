import { Link } from "@tanstack/react-router";

export function NotFound() {
  return (
    <main className="p-6">
      <h1 className="text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-sm">
        No page here.{" "}
        <Link to="/" className="text-primary underline">
          Back to the overview
        </Link>
      </p>
    </main>
  );
}
